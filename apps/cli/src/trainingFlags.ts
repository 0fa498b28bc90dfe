/** Validation of the training commands' settings, run before any work starts (no file read, no model built). */
import { ConfigError } from '@bigr/core';

const flag = (k: string): string => `--${k.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;

/** Throws ConfigError unless `cfg[key]` is an integer in [min, max]. */
export function requireInt(cfg: Readonly<Record<string, unknown>>, key: string, min: number, max: number, hint = ''): void {
  const v = cfg[key];
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
    throw new ConfigError(
      `${flag(key)} must be an integer in ${min}..${max}, got ${typeof v === 'number' ? String(v) : JSON.stringify(v)}.${hint ? ` ${hint}` : ''}`,
    );
  }
}

/** Throws ConfigError unless `cfg[key]` is a finite number in the range (`minOpen`: exclusive lower bound). */
export function requireNumber(
  cfg: Readonly<Record<string, unknown>>,
  key: string,
  range: { min: number; max: number; minOpen?: boolean; maxOpen?: boolean },
  hint = '',
): void {
  const v = cfg[key];
  const ok =
    typeof v === 'number' && Number.isFinite(v) && (range.minOpen ? v > range.min : v >= range.min) && (range.maxOpen ? v < range.max : v <= range.max);
  if (!ok) {
    throw new ConfigError(
      `${flag(key)} must be a number in ${range.minOpen ? '(' : '['}${range.min}, ${range.max}${range.maxOpen ? ')' : ']'}, ` +
        `got ${typeof v === 'number' ? String(v) : JSON.stringify(v)}.${hint ? ` ${hint}` : ''}`,
    );
  }
}

/** Throws ConfigError unless `cfg[key]` is one of `allowed`. */
export function requireOneOf(cfg: Readonly<Record<string, unknown>>, key: string, allowed: readonly string[], hint = ''): void {
  const v = cfg[key];
  if (typeof v !== 'string' || !allowed.includes(v)) {
    throw new ConfigError(
      `${flag(key)} must be ${allowed.map((a) => `'${a}'`).join(' or ')}, ` +
        `got ${typeof v === 'number' ? String(v) : JSON.stringify(v)}.${hint ? ` ${hint}` : ''}`,
    );
  }
}

/** Largest step count a training command accepts. */
export const MAX_TRAINING_STEPS = 100_000_000;
/** Largest batch a training command accepts. */
export const MAX_TRAINING_BATCH = 4096;

/** The settings both training commands share. */
export function validateCommonTrainingFlags(cfg: Readonly<Record<string, unknown>>): void {
  requireInt(cfg, 'steps', 1, MAX_TRAINING_STEPS);
  requireInt(cfg, 'batchSize', 1, MAX_TRAINING_BATCH);
  requireNumber(cfg, 'lr', { min: 0, max: 10, minOpen: true });
  requireInt(cfg, 'seed', 0, Number.MAX_SAFE_INTEGER);
  requireInt(cfg, 'limit', 0, Number.MAX_SAFE_INTEGER, '(0 = all images)');
  requireInt(cfg, 'checkpointEvery', 0, MAX_TRAINING_STEPS, '(0 = only at the end and on interrupt)');
  requireOneOf(cfg, 'weights', ['ema', 'raw'], "('raw' for short runs: the EMA keeps decay^step of the initialisation)");
  if (typeof cfg['out'] !== 'string' || cfg['out'] === '') throw new ConfigError('--out must name a directory.');
  if (typeof cfg['data'] !== 'string' || cfg['data'] === '') throw new ConfigError("--data must be 'fashion-mnist', an IDX directory or an image folder.");
}
