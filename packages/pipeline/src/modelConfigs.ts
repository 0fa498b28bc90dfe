import { ConfigError, required, type NamedTensors } from '@bigr/core';
import { backboneParameterShapes, resolveBackboneConfig } from '@bigr/backbone';
import { categoricalParameterShapes, denoiserParameterShapes, resolveCategoricalHeadConfig, resolveTranscoderConfig } from '@bigr/transcoder';
import { baeParameterShapes, validateConfig } from '@bigr/tokenizer';
import type { BigrModelConfig, BigrModelConfigCommon, CategoricalBigrModelConfig, TranscoderBigrModelConfig } from './bigrModelDir.js';
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
 * beside it (names and shapes), and resolves the backbone and head defaults. Every variant of docs/algorithm.md §13 is
 * a BiGR model: `head` is `'transcoder'` (absent = the default; a `transcoder` section) or `'categorical'` (a
 * `categorical` section, docs/algorithm.md §13.1), and `backbone.attention` is `'bidirectional'` (default) or
 * `'causal'` (§13.2). The `tokenizer` field is returned as written (callers confine it to the model directory).
 * Problems throw {@link ConfigError} naming the file and the fix.
 */
export function validateBigrModel(config: unknown, weights: NamedTensors, names: ModelFileNames): BigrModelConfig {
  const c = config as (Partial<Omit<TranscoderBigrModelConfig, 'head'>> & Partial<Omit<CategoricalBigrModelConfig, 'head'>> & { head?: unknown }) | null;
  const head = c?.head ?? 'transcoder';
  if (typeof c !== 'object' || c === null || c.format !== BIGR_FORMAT || !c.backbone || (head === 'transcoder' && !c.transcoder)) {
    throw new ConfigError(
      `${names.model}/config.json is not a BiGR model (format "${String(c?.format)}", expected "${BIGR_FORMAT}", with a backbone and a transcoder ` +
        `or categorical head). Pass a directory written by \`bigr train\`, \`bigr import\` or \`bigr study\`.`,
    );
  }
  if (head !== 'transcoder' && head !== 'categorical') {
    throw new ConfigError(
      `${names.configPath}: head is ${JSON.stringify(c.head)}; it must be 'transcoder' (the binary transcoder, the default) or 'categorical' ` +
        `(the 2^K softmax head of docs/algorithm.md §13.1, with a "categorical" section). Fix the config.`,
    );
  }
  if (head === 'categorical' && !c.categorical) {
    throw new ConfigError(
      `${names.configPath}: head is 'categorical' but the "categorical" section (bitsPerToken, featureDim) is missing. ` +
        `Re-create the model with \`bigr study\` or add the section.`,
    );
  }
  // Bound every size before anything is built from it, then check the config against the weights beside it.
  checkConfigMaxima('backbone', c.backbone, names.configPath);
  const backbone = resolveBackboneConfig(c.backbone);
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
  const common = c as BigrModelConfigCommon;
  let resolved: BigrModelConfig;
  if (head === 'categorical') {
    checkConfigMaxima('categorical', c.categorical, names.configPath);
    const categorical = resolveCategoricalHeadConfig(required(c.categorical, 'categorical section'));
    checkHeadMatchesBackbone('categorical', categorical, backbone, names.configPath);
    checkWeightsMatchConfig(
      { section: 'categorical', fields: categorical as unknown as Record<string, unknown>, expected: categoricalParameterShapes(categorical) },
      weights,
      names.configPath,
      names.weightsPath,
    );
    resolved = { ...common, head, backbone, categorical };
  } else {
    checkConfigMaxima('transcoder', c.transcoder, names.configPath);
    const transcoder = resolveTranscoderConfig(required(c.transcoder, 'transcoder section'));
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
    resolved = { ...(common as TranscoderBigrModelConfig), backbone, transcoder };
  }
  maybeCheckFinite(weights, names.weightsPath);
  return resolved;
}

/** A head's K and D must be the backbone's (`bitsPerToken`, `dim`); a mismatch names both fields. */
function checkHeadMatchesBackbone(
  section: string,
  head: { readonly bitsPerToken: number; readonly featureDim: number },
  backbone: { readonly bitsPerToken: number; readonly dim: number },
  configPath: string,
): void {
  if (head.bitsPerToken !== backbone.bitsPerToken || head.featureDim !== backbone.dim) {
    throw new ConfigError(
      `${configPath}: ${section}.bitsPerToken ${head.bitsPerToken} and ${section}.featureDim ${head.featureDim} must equal ` +
        `backbone.bitsPerToken ${backbone.bitsPerToken} and backbone.dim ${backbone.dim}. Fix the config.`,
    );
  }
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
