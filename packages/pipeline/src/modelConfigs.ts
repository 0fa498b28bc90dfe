import { ConfigError, type NamedTensors } from '@bigr/core';
import { backboneParameterShapes, resolveBackboneConfig } from '@bigr/backbone';
import { denoiserParameterShapes, resolveTranscoderConfig } from '@bigr/transcoder';
import { baeParameterShapes, validateConfig } from '@bigr/tokenizer';
import type { BigrModelConfig } from './bigrModelDir.js';
import type { TokenizerModelConfig } from './tokenizerModelDir.js';
import { checkConfigMaxima, checkWeightsMatchConfig, maybeCheckFinite } from './modelBounds.js';

/** Format tag of a BiGR model directory's config.json. */
export const BIGR_FORMAT = 'bigr-model';

/** Format tag in a tokenizer model directory's config.json. */
export const TOKENIZER_FORMAT = 'bigr-tokenizer';

/** Names used in the messages of {@link validateBigrModel} / {@link validateTokenizerModel}. */
export interface ModelFileNames {
  /** The model (directory or URL) for "is not a model" messages. */
  readonly model: string;
  /** The config.json path or URL. */
  readonly configPath: string;
  /** The model.safetensors path or URL. */
  readonly weightsPath: string;
}

/**
 * Checks a parsed BiGR config.json against the bounds every loaded config must respect and against the weights
 * beside it (names and shapes), and resolves the backbone and transcoder defaults. The `tokenizer` field is
 * returned as written (callers confine it to the model directory). Problems throw {@link ConfigError} naming the
 * file and the fix.
 */
export function validateBigrModel(config: unknown, weights: NamedTensors, names: ModelFileNames): BigrModelConfig {
  const c = config as Partial<BigrModelConfig>;
  if (typeof c !== 'object' || c === null || c.format !== BIGR_FORMAT || !c.backbone || !c.transcoder) {
    throw new ConfigError(
      `${names.model}/config.json is not a BiGR model (format "${String(c?.format)}", expected "${BIGR_FORMAT}"). ` +
        `Pass a directory written by \`bigr train\` or \`bigr import\`.`,
    );
  }
  // Bound every size before anything is built from it, then check the config against the weights beside it.
  checkConfigMaxima('backbone', c.backbone, names.configPath);
  checkConfigMaxima('transcoder', c.transcoder, names.configPath);
  const backbone = resolveBackboneConfig(c.backbone);
  const transcoder = resolveTranscoderConfig(c.transcoder);
  checkWeightsMatchConfig(
    {
      section: 'backbone',
      fields: backbone as unknown as Record<string, unknown>,
      expected: backboneParameterShapes(backbone),
      counts: { layers: (i) => `layers.${i}.` },
    },
    weights,
    names.configPath,
    names.weightsPath,
  );
  checkWeightsMatchConfig(
    {
      section: 'transcoder',
      fields: transcoder as unknown as Record<string, unknown>,
      expected: denoiserParameterShapes(transcoder),
      counts: { blocks: (i) => `${transcoder.prefix}.blocks.${i}.` },
    },
    weights,
    names.configPath,
    names.weightsPath,
  );
  maybeCheckFinite(weights, names.weightsPath);
  return { ...(c as BigrModelConfig), backbone, transcoder };
}

/** Checks a parsed tokenizer config.json against the bounds and the weights beside it (see {@link validateBigrModel}). */
export function validateTokenizerModel(config: unknown, weights: NamedTensors, names: ModelFileNames): TokenizerModelConfig {
  const c = config as Partial<TokenizerModelConfig>;
  if (typeof c !== 'object' || c === null || c.format !== TOKENIZER_FORMAT || !c.bae) {
    throw new ConfigError(
      `${names.model}/config.json is not a tokenizer model (format "${String(c?.format)}", expected "${TOKENIZER_FORMAT}"). ` +
        `Pass the directory written by \`bigr train-tokenizer\`.`,
    );
  }
  checkConfigMaxima('bae', c.bae, names.configPath);
  const bae = validateConfig(c.bae);
  if (typeof c.pad !== 'number' || !Number.isInteger(c.pad) || c.pad < 0 || 2 * c.pad >= bae.resolution) {
    throw new ConfigError(
      `${names.configPath}: pad is ${JSON.stringify(c.pad)}; ` +
        `it must be an integer in 0..${Math.max(0, Math.ceil(bae.resolution / 2) - 1)} (2 for Fashion-MNIST's 28 → 32 padding). Fix the config.`,
    );
  }
  checkWeightsMatchConfig(
    { section: 'bae', fields: bae as unknown as Record<string, unknown>, expected: baeParameterShapes(bae) },
    weights,
    names.configPath,
    names.weightsPath,
  );
  maybeCheckFinite(weights, names.weightsPath);
  return { ...(c as TokenizerModelConfig), bae };
}
