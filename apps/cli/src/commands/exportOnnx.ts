import { createHash } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { atomicWrite, ConfigError, getOrThrow, parseJsonBounded, sha256OfFile, type GraphDefinition, type NamedTensors } from '@bigr/core';
import { backboneGraph, defaultRepresentationLayer, extractBackboneParameters, nullClassIndex, representationGraph } from '@bigr/backbone';
import { categoricalClasses, categoricalLogitsGraph, categoricalParameterShapes, conditionGraph, splitSamplerParameters, stepGraph } from '@bigr/transcoder';
import { bigrHeadKind, modelCommitRule, type BigrModelConfig } from '@bigr/pipeline';
import { decoderGraph, encoderGraph, latentGrid, loadBaeParameters } from '@bigr/tokenizer';
import { buildOnnxModel, ONNX_IR_VERSION, ONNX_OPSET_VERSION } from '@bigr/engine-onnx';
import type { CliContext } from '../context.js';
import { resolveConfig } from '../config.js';
import { readBigrModel } from '../bigrModelDir.js';
import { readTokenizerModel } from '../tokenizerModelDir.js';
import { writeJsonAtomic } from '../sidecar.js';
import { checkOutputs, modelInputFiles } from '../outputs.js';
import { writeDirectoryStaged } from '../stagedDirectory.js';
import type { GivenFlags } from '../givenFlags.js';
import { modelDirectory } from '../modelPaths.js';

/** Settings of `bigr export-onnx`. */
export const EXPORT_ONNX_DEFAULTS = {
  model: '',
  out: 'onnx',
  layer: -1,
};

/** Flags of `bigr export-onnx` as given on the command line. */
export type ExportOnnxFlags = GivenFlags<typeof EXPORT_ONNX_DEFAULTS>;

/** Format tag of the export manifest. */
export const ONNX_EXPORT_FORMAT = 'bigr-onnx-export';

/** A tensor in the manifest: name, element type and shape (strings are symbolic dimensions). */
export interface ManifestTensor {
  /** Graph input/output name. */
  readonly name: string;
  /** Element type. */
  readonly dtype: string;
  /** Dimensions; strings are dynamic (`batch`, `rows`, ...). */
  readonly shape: readonly (number | string)[];
}

/** One exported graph in the manifest. */
export interface ManifestGraph {
  /** File name inside the export directory. */
  readonly file: string;
  /** What the graph computes. */
  readonly description: string;
  /** Inputs in order. */
  readonly inputs: readonly ManifestTensor[];
  /** Outputs in order. */
  readonly outputs: readonly ManifestTensor[];
  /** sha256 (hex) of the file. */
  readonly sha256: string;
  /** Size in bytes. */
  readonly bytes: number;
}

/** File name of the export manifest (renamed into place after every graph it names). */
export const ONNX_MANIFEST_FILE = 'manifest.json';

/** Largest manifest read when deciding which files an earlier export wrote (bytes). */
const MAX_MANIFEST_BYTES = 16 * 1024 * 1024;

/**
 * Names of the files an earlier `bigr export-onnx` wrote into `dir` (its manifest and the graphs the manifest
 * lists), which a new export may replace without --force; empty when `dir` holds no export manifest.
 */
async function filesOfEarlierExport(dir: string): Promise<Set<string>> {
  const path = join(dir, ONNX_MANIFEST_FILE);
  try {
    const s = await stat(path);
    if (!s.isFile() || s.size > MAX_MANIFEST_BYTES) return new Set();
    const m = parseJsonBounded(await readFile(path, 'utf8'), { source: path }) as { format?: unknown; graphs?: unknown } | null;
    if (m === null || typeof m !== 'object' || m.format !== ONNX_EXPORT_FORMAT || typeof m.graphs !== 'object' || m.graphs === null) return new Set();
    const files = Object.values(m.graphs as Record<string, unknown>).map((g) => (g as { file?: unknown } | null)?.file);
    return new Set([ONNX_MANIFEST_FILE, ...files.filter((f): f is string => typeof f === 'string')]);
  } catch {
    return new Set();
  }
}

interface GraphJob {
  readonly key: string;
  readonly file: string;
  readonly description: string;
  readonly def: GraphDefinition;
  readonly params: NamedTensors;
  readonly outputs: readonly ManifestTensor[];
}

const f32 = (name: string, shape: readonly (number | string)[]): ManifestTensor => ({ name, dtype: 'float32', shape });

/**
 * The graphs of the model's head: the transcoder's condition and step graphs, or the categorical head's logits graph
 * (docs/algorithm.md §13.1).
 */
function headJobs(config: BigrModelConfig, weights: NamedTensors): GraphJob[] {
  if (config.head === 'categorical') {
    const c = config.categorical;
    const params: NamedTensors = new Map();
    // readBigrModel checked that the weights hold every tensor of the head.
    for (const name of categoricalParameterShapes(c).keys()) params.set(name, getOrThrow(weights, name, 'categorical head weight'));
    return [
      {
        key: 'categoricalHead',
        file: 'categorical_head.onnx',
        description:
          `Categorical head (docs/algorithm.md §13.1): features F [rows, D] → logits over the 2^K = ${categoricalClasses(c)} tokens, class ` +
          'r = Σ_k 2^k·z_k; guidance ℓ_u + s·(ℓ_c − ℓ_u), temperature and sampling outside',
        def: categoricalLogitsGraph(c),
        params,
        outputs: [f32('logits', ['rows', categoricalClasses(c)])],
      },
    ];
  }
  const t = config.transcoder;
  const params = splitSamplerParameters(weights, t);
  return [
    {
      key: 'transcoderCondition',
      file: 'transcoder_condition.onnx',
      description: 'Transcoder condition embedding c_emb = c_embedder(F), once per sampling call (rows = tokens to predict, both CFG halves)',
      def: conditionGraph(t),
      params: params.condition,
      outputs: [f32('c_emb', ['rows', t.width])],
    },
    {
      key: 'transcoderStep',
      file: 'transcoder_step.onnx',
      description: `Transcoder denoiser step: x_t (0/1), tau = t − 1 (one value or one per row), c_emb → logits (target "${t.target}")`,
      def: stepGraph(t),
      params: params.step,
      outputs: [f32('logits', ['rows', t.bitsPerToken])],
    },
  ];
}

/**
 * What a runtime needs to drive the sampler with the exported graphs: the head and attention (docs/algorithm.md §13),
 * how tokens are decoded and committed, and the head's settings.
 */
function headManifest(config: BigrModelConfig): Record<string, unknown> {
  const causal = config.backbone.attention === 'causal';
  return {
    head: bigrHeadKind(config),
    attention: config.backbone.attention,
    decoding: causal ? 'autoregressive: one token per step in raster order' : 'masked unmasking (docs/algorithm.md §6)',
    commit: modelCommitRule(config),
    ...(config.head === 'categorical'
      ? { categorical: { classes: categoricalClasses(config.categorical), classIndex: 'r = Σ_k 2^k·z_k (bit k = channel k)' } }
      : {
          transcoder: {
            timesteps: config.transcoder.timesteps,
            inferenceSteps: config.transcoder.inferenceSteps,
            target: config.transcoder.target,
            width: config.transcoder.width,
          },
        }),
  };
}

/**
 * `bigr export-onnx`: writes the inference graphs of a BiGR model directory as standalone ONNX models (opset 17,
 * weights as initializers) — backbone features, a representation graph (§7.1 features of one block), the head's graphs
 * (the transcoder's condition and step graphs, or the categorical head's logits graph of a `head: 'categorical'` model,
 * docs/algorithm.md §13.1), and the tokenizer's encoder and decoder — plus `manifest.json` with every graph's input and
 * output names, types and shapes, and the settings a runtime needs to drive the sampler (head, attention, decoding,
 * commit rule). A causal model's backbone graph is causal (§13.2). Like the model-directory
 * writers, it checks before any work that it replaces only files an earlier export wrote there (else --force; never
 * the model's own files or read-only files), writes everything into a staging directory inside --out and renames
 * the files into place with `manifest.json` last, so a kill leaves each file either old or new.
 */
export async function exportOnnxCommand(ctx: CliContext, flags: ExportOnnxFlags): Promise<void> {
  const cfg = await resolveConfig({
    command: 'export-onnx',
    defaults: EXPORT_ONNX_DEFAULTS,
    ...(flags.config !== undefined ? { configFile: flags.config } : {}),
    flags: flags.settings,
  });
  const modelDir = await modelDirectory(cfg.model);
  if (typeof cfg.out !== 'string' || cfg.out === '') throw new ConfigError('--out must name a directory for the ONNX files.');
  try {
    if (!(await stat(cfg.out)).isDirectory())
      throw new ConfigError(`--out ${cfg.out} is a file; \`bigr export-onnx\` writes a directory of ONNX files. Choose another --out.`);
  } catch (err) {
    if (err instanceof ConfigError) throw err;
  }
  const started = Date.now();
  const { config, weights } = await readBigrModel(modelDir);
  const tok = await readTokenizerModel(join(modelDir, config.tokenizer));
  const b = config.backbone;
  const bae = tok.config.bae;
  const layer = cfg.layer < 0 ? defaultRepresentationLayer(b) : cfg.layer;
  if (!Number.isInteger(layer) || layer >= b.layers)
    throw new ConfigError(`--layer ${cfg.layer} is not a block of this model; use 0…${b.layers - 1} (default ${defaultRepresentationLayer(b)}).`);
  const [gh, gw] = latentGrid(bae, bae.resolution, bae.resolution);
  if (gh * gw !== b.tokens || bae.codeDim !== b.bitsPerToken) {
    throw new ConfigError(
      `The tokenizer makes ${gh * gw} tokens of ${bae.codeDim} bits but the backbone expects ${b.tokens} × ${b.bitsPerToken}; ` +
        `the model directory is inconsistent.`,
    );
  }
  const backboneParams = extractBackboneParameters(weights, b);
  const baeParams = loadBaeParameters(bae, tok.weights);
  const img: (number | string)[] = ['batch', bae.inChannels, bae.resolution, bae.resolution];
  const jobs: GraphJob[] = [
    {
      key: 'backbone',
      file: 'backbone.onnx',
      description:
        b.attention === 'causal'
          ? 'BiGR backbone with causal attention (docs/algorithm.md §2.3, §13.2): bits + mask + class label → per-token features F of the ' +
            `${bigrHeadKind(config)} head; the features of token n depend only on the class and tokens 0…n−1 (decode token by token in raster order)`
          : `BiGR backbone (docs/algorithm.md §2.3): bits + mask (1 = masked) + class label → per-token features F of the ${bigrHeadKind(config)} head`,
      def: backboneGraph(b),
      params: backboneParams,
      outputs: [f32('features', ['batch', b.tokens, b.dim])],
    },
    {
      key: 'representation',
      file: 'representation.onnx',
      description:
        `Representation (docs/algorithm.md §7.1): unmasked bits + null class ${nullClassIndex(b)} → block ${layer} hidden states (no final norm) ` +
        `and their mean over image tokens`,
      def: representationGraph(b, { layer }),
      params: backboneParams,
      outputs: [f32('tokens', ['batch', b.tokens, b.dim]), f32('pooled', ['batch', b.dim])],
    },
    ...headJobs(config, weights),
    {
      key: 'tokenizerEncoder',
      file: 'tokenizer_encoder.onnx',
      description:
        'B-AE encoder: image in [0, 1] (NCHW) → Bernoulli code probabilities P(bit = 1) in token layout; binarise outside (threshold 0.5 or Bernoulli)',
      def: encoderGraph(bae, bae.resolution, bae.resolution),
      params: baeParams,
      outputs: [f32('probabilities', ['batch', b.tokens, bae.codeDim])],
    },
    {
      key: 'tokenizerDecoder',
      file: 'tokenizer_decoder.onnx',
      description: 'B-AE decoder: bits (0/1, token layout) → image (NCHW, not clamped; clamp to [0, 1])',
      def: decoderGraph(bae, bae.resolution, bae.resolution),
      params: baeParams,
      outputs: [f32('image', img)],
    },
  ];
  // Overwrite rules, before any work: files of an earlier export here may be replaced; anything else needs --force.
  const inputs = [flags.config, ...modelInputFiles(modelDir)];
  const earlier = await filesOfEarlierExport(cfg.out);
  const planned = [...jobs.map((j) => j.file), ONNX_MANIFEST_FILE];
  await checkOutputs({ command: 'export-onnx', force: true, inputs, outputs: planned.filter((f) => earlier.has(f)).map((f) => join(cfg.out, f)) });
  await checkOutputs({ command: 'export-onnx', force: ctx.force, inputs, outputs: planned.filter((f) => !earlier.has(f)).map((f) => join(cfg.out, f)) });

  const graphs: Record<string, ManifestGraph> = {};
  const modelHash = await sha256OfFile(join(modelDir, 'model.safetensors'));
  const progress = ctx.progress('export-onnx');
  await writeDirectoryStaged(
    cfg.out,
    async (staging) => {
      try {
        for (const [i, job] of jobs.entries()) {
          const bytes = buildOnnxModel(job.def, job.params, { docString: job.description });
          await atomicWrite(join(staging, job.file), bytes);
          graphs[job.key] = {
            file: job.file,
            description: job.description,
            inputs: job.def.inputs.map((s) => ({ name: s.name, dtype: s.dtype, shape: [...s.shape] })),
            outputs: job.outputs,
            sha256: createHash('sha256').update(bytes).digest('hex'),
            bytes: bytes.length,
          };
          progress.update({ task: 'export-onnx', current: i + 1, total: jobs.length });
        }
      } finally {
        progress.stop();
      }
      const manifest = {
        format: ONNX_EXPORT_FORMAT,
        version: 1,
        opset: ONNX_OPSET_VERSION,
        irVersion: ONNX_IR_VERSION,
        source: { model: modelDir, modelHash },
        graphs,
        model: {
          classNames: config.classNames,
          numClasses: b.numClasses,
          nullClass: nullClassIndex(b),
          tokens: b.tokens,
          grid: [gh, gw],
          bitsPerToken: b.bitsPerToken,
          dim: b.dim,
          representationLayer: layer,
          image: { channels: bae.inChannels, height: bae.resolution, width: bae.resolution, range: '[0, 1]', pad: tok.config.pad },
          ...headManifest(config),
        },
        config: {
          head: bigrHeadKind(config),
          backbone: b,
          ...(config.head === 'categorical' ? { categorical: config.categorical } : { transcoder: config.transcoder }),
          tokenizer: bae,
        },
      };
      await writeJsonAtomic(join(staging, ONNX_MANIFEST_FILE), manifest);
    },
    { last: ONNX_MANIFEST_FILE },
  );
  const manifestPath = join(cfg.out, ONNX_MANIFEST_FILE);
  const seconds = (Date.now() - started) / 1000;
  for (const g of Object.values(graphs))
    ctx.out(
      `${join(cfg.out, g.file)} (${(g.bytes / 1e6).toFixed(2)} MB): ${g.inputs.map((x) => x.name).join(', ')} → ${g.outputs.map((x) => x.name).join(', ')}`,
    );
  ctx.out(`wrote ${manifestPath} (${seconds.toFixed(1)} s)`);
  ctx.result({
    ok: true,
    command: 'export-onnx',
    out: cfg.out,
    manifest: manifestPath,
    files: Object.values(graphs).map((g) => join(cfg.out, g.file)),
    modelHash,
    seconds,
  });
}
