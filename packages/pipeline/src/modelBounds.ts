/**
 * Every size in a model's config.json is bounded before anything is allocated (a `timesteps: 1e9` or
 * `resBlocks: 1e7` would otherwise take gigabytes), and checked against the weights it sits beside, so a config
 * that contradicts its weights is a named mismatch (field, config value, tensor shape) instead of an engine error.
 */
import { assertFiniteTensors, ConfigError, type NamedTensors } from '@bigr/core';

/** Largest accepted value of each numeric field, per config section (far above every released model). */
export const MODEL_CONFIG_MAXIMA = {
  backbone: { dim: 16384, layers: 512, heads: 512, bitsPerToken: 1024, tokens: 65536, numClasses: 1_000_000, clsTokenNum: 1024, multipleOf: 65536 },
  transcoder: { bitsPerToken: 1024, featureDim: 16384, width: 16384, blocks: 256, timesteps: 100_000, inferenceSteps: 100_000 },
  // The categorical head has 2^K·(D + 1) parameters; K ≤ 16 (docs/algorithm.md §13.1).
  categorical: { bitsPerToken: 16, featureDim: 16384 },
  bae: { nf: 1024, resBlocks: 64, embDim: 16384, codeDim: 1024, inChannels: 64, resolution: 8192, normGroups: 1024, chMult: 64 },
} as const;

/** Longest accepted `chMult` / `attnResolutions` list of a B-AE config. */
const MAX_LEVELS = 12;

/**
 * Throws {@link ConfigError} when a field of `section` in `config` is above {@link MODEL_CONFIG_MAXIMA} (or not a
 * finite number where a number is expected), naming the file, the field, the value and the limit.
 */
export function checkConfigMaxima(section: keyof typeof MODEL_CONFIG_MAXIMA, config: unknown, where: string): void {
  if (typeof config !== 'object' || config === null || Array.isArray(config)) {
    throw new ConfigError(`${where}: "${section}" is ${JSON.stringify(config)}; an object was expected. Fix or re-create the model's config.json.`);
  }
  const c = config as Record<string, unknown>;
  for (const [field, max] of Object.entries(MODEL_CONFIG_MAXIMA[section])) {
    const v = c[field];
    if (v === undefined) continue;
    const values = Array.isArray(v) ? v : [v];
    if (Array.isArray(v) && v.length > MAX_LEVELS)
      throw new ConfigError(`${where}: ${section}.${field} has ${v.length} entries; at most ${MAX_LEVELS} are accepted. Fix the config.`);
    for (const x of values) {
      if (typeof x !== 'number' || !Number.isFinite(x) || x > max) {
        throw new ConfigError(
          `${where}: ${section}.${field} is ${JSON.stringify(v)}; it must be a number of at most ${max}. The config is corrupt; fix it or re-create the model.`,
        );
      }
    }
  }
  if (section === 'bae' && Array.isArray(c['attnResolutions']) && c['attnResolutions'].length > MAX_LEVELS) {
    throw new ConfigError(`${where}: bae.attnResolutions has ${c['attnResolutions'].length} entries; at most ${MAX_LEVELS} are accepted. Fix the config.`);
  }
}

/** The config fields that decide the tensors of each part of a model (shown in mismatch messages). */
export interface ShapeSource {
  /** Config section, e.g. `transcoder`. */
  readonly section: string;
  /** The section's fields with their values (e.g. `{ width: 128, blocks: 2 }`). */
  readonly fields: Readonly<Record<string, unknown>>;
  /** Expected tensors (official names → shapes) implied by those fields. */
  readonly expected: ReadonlyMap<string, readonly number[]>;
  /** Numbered repeated units: field name → the name pattern of unit `i` (e.g. `blocks` → `denoise_mlp.blocks.<i>.`). */
  readonly counts?: Readonly<Record<string, (i: number) => string>>;
}

/**
 * Checks `weights` against the tensors the config implies. A repeated-unit count that differs (`blocks: 5` with
 * weights of 2 blocks) names the field, its config value and what the weights hold; a shape mismatch names the
 * tensor, its shape in the weights, the shape the config implies and the fields it depends on.
 */
export function checkWeightsMatchConfig(source: ShapeSource, weights: NamedTensors, configPath: string, weightsPath: string): void {
  for (const [field, pattern] of Object.entries(source.counts ?? {})) {
    const configured = source.fields[field];
    let held = 0;
    while (held <= 100_000 && [...weights.keys()].some((k) => k.startsWith(pattern(held)))) held++;
    if (typeof configured === 'number' && held !== configured) {
      throw new ConfigError(
        `${configPath}: ${source.section}.${field} is ${configured}, ` +
          `but ${weightsPath} holds ${held} (tensors ${pattern(0)}… to ${pattern(Math.max(0, held - 1))}…). ` +
          `Fix ${source.section}.${field} in the config or use the weights it was saved with.`,
      );
    }
  }
  const fields = Object.entries(source.fields)
    .filter(([, v]) => typeof v === 'number')
    .map(([k, v]) => `${source.section}.${k}=${String(v)}`)
    .join(', ');
  for (const [name, shape] of source.expected) {
    const t = weights.get(name);
    if (!t) {
      throw new ConfigError(
        `${configPath} (${fields}) implies tensor "${name}" [${shape.join(', ')}], which ${weightsPath} does not hold. ` +
          `The config does not describe these weights; fix it or use the matching weights.`,
      );
    }
    if (t.shape.length !== shape.length || t.shape.some((d, i) => d !== shape[i])) {
      throw new ConfigError(
        `${configPath} (${fields}) implies tensor "${name}" of shape [${shape.join(', ')}], but ${weightsPath} holds [${t.shape.join(', ')}]. ` +
          `The config does not describe these weights; fix the field that sets this size or use the matching weights.`,
      );
    }
  }
}

/** True when weights should be checked for NaN/Inf at load (the global --check-finite flag sets BIGR_CHECK_FINITE=1). */
export function checkFiniteRequested(): boolean {
  const proc = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process;
  return proc?.env?.['BIGR_CHECK_FINITE'] === '1';
}

/** With --check-finite, refuses weights holding NaN or Inf (a FormatError naming the tensor). */
export function maybeCheckFinite(weights: NamedTensors, weightsPath: string): void {
  if (checkFiniteRequested()) assertFiniteTensors(weights, weightsPath);
}
