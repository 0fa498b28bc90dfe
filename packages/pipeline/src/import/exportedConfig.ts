/**
 * Reading back what `bigr export --format pytorch` stores in `args.bigr_config` (the settings the weights do not
 * record: heads, GroupNorm groups, class names, padding, sampling defaults), checked against the architecture
 * inferred from the weights so a stale or edited value is a named error, never a silently different model.
 */
import { FormatError, parseJsonBounded } from '@bigr/core';
import { resolveBackboneConfig } from '@bigr/backbone';
import { resolveTranscoderConfig } from '@bigr/transcoder';
import { baeParameterShapes, validateConfig, type BaeConfig } from '@bigr/tokenizer';
import { BIGR_CONFIG_ARG, type ExportedBigrConfig } from '../export/pytorchExport.js';
import type { CheckpointArgValue } from './checkpointSource.js';
import type { InferredBigr } from './bigrLayout.js';

/** The exported settings in a checkpoint's args, or undefined when it has none (a released checkpoint). */
export function exportedConfigOf(args: Readonly<Record<string, CheckpointArgValue>> | undefined, source: string): ExportedBigrConfig | undefined {
  const raw = args?.[BIGR_CONFIG_ARG];
  if (raw === undefined) return undefined;
  let value: unknown;
  try {
    if (typeof raw !== 'string' || raw.length > 16 * 1024 * 1024) throw new Error(`a ${typeof raw}`);
    value = parseJsonBounded(raw, { source: `${source}: args.${BIGR_CONFIG_ARG}` });
  } catch (err) {
    throw new FormatError(
      `${source}: args.${BIGR_CONFIG_ARG} is not the JSON string \`bigr export\` writes (${(err as Error).message}). ` +
        `Re-export the model, or remove the field to import by shapes alone.`,
    );
  }
  const c = value as Partial<ExportedBigrConfig> | null;
  if (
    typeof c !== 'object' ||
    c === null ||
    c.format !== 'bigr-pytorch-export' ||
    c.version !== 1 ||
    !Array.isArray(c.classNames) ||
    typeof c.bae !== 'object' ||
    typeof c.pad !== 'number'
  ) {
    throw new FormatError(
      `${source}: args.${BIGR_CONFIG_ARG} has format ${JSON.stringify(c?.format)} version ${JSON.stringify(c?.version)}; ` +
        `expected "bigr-pytorch-export" version 1 with classNames, bae and pad. Re-export the model with this version of bigr.`,
    );
  }
  return c as ExportedBigrConfig;
}

function same(a: Record<string, unknown>, b: Record<string, unknown>, fields: readonly string[], what: string, source: string): void {
  for (const f of fields) {
    if (a[f] !== b[f])
      throw new FormatError(
        `${source}: args.${BIGR_CONFIG_ARG} says ${what}.${f} = ${JSON.stringify(a[f])} but the weights have ${JSON.stringify(b[f])}. ` +
          `The checkpoint was edited after export; re-export it or drop args.${BIGR_CONFIG_ARG}.`,
      );
  }
}

/** The inferred layout with the exported backbone and transcoder settings (which must agree with the weights). */
export function withExportedSettings(inferred: InferredBigr, exported: ExportedBigrConfig, source: string): InferredBigr {
  if (!exported.backbone || !exported.transcoder) return inferred;
  const backbone = resolveBackboneConfig(exported.backbone);
  const transcoder = resolveTranscoderConfig(exported.transcoder);
  same(
    backbone as unknown as Record<string, unknown>,
    inferred.backbone as unknown as Record<string, unknown>,
    ['dim', 'layers', 'heads', 'bitsPerToken', 'tokens', 'numClasses', 'clsTokenNum', 'useAdaLN'],
    'backbone',
    source,
  );
  same(
    transcoder as unknown as Record<string, unknown>,
    inferred.transcoder as unknown as Record<string, unknown>,
    ['bitsPerToken', 'featureDim', 'width', 'blocks', 'timesteps'],
    'transcoder',
    source,
  );
  return { ...inferred, backbone, transcoder };
}

/** The exported B-AE config, when its parameter shapes are exactly those inferred from the B-AE weights. */
export function exportedBaeConfig(inferred: BaeConfig, exported: BaeConfig, source: string): BaeConfig {
  const config = validateConfig(exported);
  const want = baeParameterShapes(inferred);
  const got = baeParameterShapes(config);
  const differs = [...new Set([...want.keys(), ...got.keys()])].filter((k) => want.get(k)?.join(',') !== got.get(k)?.join(','));
  if (differs.length > 0)
    throw new FormatError(
      `${source}: the exported tokenizer config does not match the weights (${differs.slice(0, 5).join(', ')}${differs.length > 5 ? ', ...' : ''}). ` +
        `Re-export the model.`,
    );
  return config;
}
