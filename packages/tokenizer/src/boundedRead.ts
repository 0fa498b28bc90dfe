// The bounded whole-file read lives in @bigr/core (shared by every file parser); re-exported for compatibility.
export { readBoundedFile } from '@bigr/core';
