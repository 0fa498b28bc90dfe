import { FormatError } from './errors.js';

/** Default deepest accepted nesting of arrays/objects in parsed JSON (configs and headers are a few levels deep). */
export const DEFAULT_MAX_JSON_DEPTH = 64;

/** Options of {@link parseJsonBounded}. */
export interface JsonBoundsOptions {
  /** Deepest accepted nesting of arrays and objects. Default {@link DEFAULT_MAX_JSON_DEPTH}. */
  readonly maxDepth?: number;
  /** Longest accepted text, in UTF-16 code units. Default unlimited (bound the file size before reading it). */
  readonly maxLength?: number;
  /** Names the text in error messages (a path, or e.g. "the safetensors header of x"). */
  readonly source?: string;
}

/**
 * The deepest nesting of `[`/`{` in JSON text (brackets inside strings do not count). Runs in one pass without
 * recursion, so it is safe on hostile input; it does not validate the JSON.
 */
export function jsonNestingDepth(text: string): number {
  let depth = 0;
  let max = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c)
        i++; // backslash: skip the escaped character
      else if (c === 0x22) inString = false;
      continue;
    }
    if (c === 0x22) inString = true;
    else if (c === 0x5b || c === 0x7b) {
      depth++;
      if (depth > max) max = depth;
    } else if (c === 0x5d || c === 0x7d) depth--;
  }
  return max;
}

/**
 * `JSON.parse` with bounds checked first: the nesting depth (so a header nested 10,000 deep is a
 * {@link FormatError}, not a stack overflow in whatever walks the value later) and optionally the length.
 * Invalid JSON is a FormatError naming `source`.
 */
export function parseJsonBounded(text: string, options: JsonBoundsOptions = {}): unknown {
  const source = options.source ?? 'JSON text';
  const maxDepth = options.maxDepth ?? DEFAULT_MAX_JSON_DEPTH;
  if (options.maxLength !== undefined && text.length > options.maxLength) {
    throw new FormatError(
      `${source} is ${text.length} characters long, above the limit of ${options.maxLength}. The file is corrupt or not what was expected.`,
    );
  }
  const depth = jsonNestingDepth(text);
  if (depth > maxDepth) {
    throw new FormatError(
      `${source} nests arrays/objects ${depth} levels deep; at most ${maxDepth} are accepted. The file is corrupt or hostile; re-create it.`,
    );
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    throw new FormatError(`${source} is not valid JSON (${(err as Error).message}). Fix or re-create the file.`, { cause: err });
  }
}
