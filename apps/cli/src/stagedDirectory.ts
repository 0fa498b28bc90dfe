/** Staged multi-file writes moved to `@bigr/pipeline`; re-exported here so existing imports keep working. */
export { cleanStaleTemporaries, writeDirectoryStaged } from '@bigr/pipeline';
