/**
 * Error hierarchy. Every message names the offending value, what was expected, and how to fix it.
 * The CLI maps classes to exit codes via {@link BigrError.exitCode}.
 */
export class BigrError extends Error {
  /** Process exit code the CLI uses for this kind of failure. */
  readonly exitCode: number = 1;
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** A tensor had the wrong shape, dtype or size. */
export class ShapeError extends BigrError {}

/** A configuration value or option is invalid (exit code 2, like a usage error). */
export class ConfigError extends BigrError {
  override readonly exitCode: number = 2;
}

/** A file is malformed, truncated or hostile (safetensors, IDX, index files, checkpoints). */
export class FormatError extends BigrError {
  override readonly exitCode: number = 3;
}

/** A model, file or parameter that was asked for does not exist. */
export class NotFoundError extends BigrError {
  override readonly exitCode: number = 3;
}

/** No requested compute engine could be initialised; the message lists each one tried and why it failed. */
export class EngineUnavailableError extends BigrError {
  override readonly exitCode: number = 4;
}

/** A download failed: the server could not be reached, dropped the connection too often, or answered with an HTTP error. */
export class NetworkError extends BigrError {}

/** A long operation was stopped through its AbortSignal. */
export class AbortError extends BigrError {
  override readonly exitCode: number = 130;
  constructor(message = 'The operation was aborted.') {
    super(message);
  }
}
