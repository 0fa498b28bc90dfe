import { required } from '@bigr/core';

/** A named graph output (or a named input inside a graph build); a missing name fails with the name in the message. */
export function named<T>(values: Readonly<Record<string, T>>, name: string): T {
  return required(values[name], `"${name}"`);
}
