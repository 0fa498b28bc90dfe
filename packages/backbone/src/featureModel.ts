import {
  ConfigError,
  CpuTensor,
  assertShape,
  at,
  dims3,
  getOrThrow,
  required,
  type CompileOptions,
  type CompiledGraph,
  type Condition,
  type Engine,
  type NamedTensors,
  type TokenFeatureModel,
} from '@bigr/core';
import type { BackboneConfig } from './config.js';
import { backboneGraph } from './backboneGraph.js';
import { BACKBONE_INPUTS, conditionInputName, type ConditionInputKind } from './backboneInputs.js';
import { EngineBackbone, repeatTwice } from './engineBackbone.js';

/**
 * The backbone as a core {@link TokenFeatureModel} on any {@link Engine}: per-token features F [B, N, D] for bits and a
 * mask, conditioned on a class, a given embedding, or a class interpolation. With `withNull`, the conditional and
 * unconditional (null class) rows run in **one** batched call and the result is [2B, N, D] = [cond; uncond]
 * (docs/algorithm.md §6). Graphs are compiled lazily, one per condition kind.
 */
export class BackboneFeatureModel extends EngineBackbone implements TokenFeatureModel {
  readonly #graphs = new Map<ConditionInputKind, Promise<CompiledGraph>>();

  /**
   * Wraps `params` (backbone tensors with official names; extra keys such as `denoise_mlp.*` are ignored) for
   * `engine`. Nothing is compiled until the first call.
   */
  constructor(engine: Engine, config: BackboneConfig, params: NamedTensors, compileOptions: CompileOptions = {}) {
    super(engine, config, params, compileOptions);
  }

  #graph(kind: ConditionInputKind): Promise<CompiledGraph> {
    let g = this.#graphs.get(kind);
    if (!g) {
      g = this.compile(backboneGraph(this.config, { condition: kind, name: `bigr_backbone_${kind}` }));
      this.#graphs.set(kind, g);
      g.catch(() => this.#graphs.delete(kind));
    }
    return g;
  }

  /** Features [B, N, D], or [2B, N, D] = [cond; uncond] with `withNull`. `mask` is 1 where a token is masked. */
  async features(bits: CpuTensor<'float32'>, mask: CpuTensor<'uint8'>, condition: Condition, withNull: boolean): Promise<CpuTensor<'float32'>> {
    const { tokens: N, bitsPerToken: K, dim: D, numClasses } = this.config;
    assertShape(bits, [-1, N, K], 'Backbone bits');
    const [B] = dims3(bits.shape, 'Backbone bits');
    assertShape(mask, [B, N], 'Backbone mask');
    const rows = withNull ? 2 * B : B;
    const bitsData = withNull ? repeatTwice(bits.data) : bits.data;
    const maskF = Float32Array.from(withNull ? repeatTwice(mask.data) : mask.data);
    let kind: ConditionInputKind;
    let condFeed: CpuTensor;
    if (condition.kind === 'class') {
      this.checkLabels(condition.labels, B, 'Condition labels');
      kind = 'labels';
      condFeed = this.labelFeed(condition.labels, rows);
    } else if (condition.kind === 'interpolate') {
      this.checkLabels(condition.a, B, 'Interpolation classes a');
      this.checkLabels(condition.b, B, 'Interpolation classes b');
      const w = condition.weight;
      if (!Number.isFinite(w)) throw new ConfigError(`Interpolation weight ${w} must be a finite number (usually in [0, 1]).`);
      kind = 'classWeights';
      const C1 = numClasses + 1;
      const weights = new Float32Array(rows * C1);
      for (let i = 0; i < B; i++) {
        // a and b may name the same class, so the two weights accumulate.
        const ia = i * C1 + at(condition.a, i, 'Interpolation classes a');
        weights[ia] = at(weights, ia) + w;
        const ib = i * C1 + at(condition.b, i, 'Interpolation classes b');
        weights[ib] = at(weights, ib) + (1 - w);
      }
      // Unconditional half: w·Emb[null] + (1−w)·Emb[null] (docs/algorithm.md §8.2).
      for (let i = B; i < rows; i++) weights[i * C1 + this.nullClass] = Math.fround(w) + Math.fround(1 - w);
      condFeed = new CpuTensor(weights, [rows, C1]);
    } else if (condition.kind === 'embedding') {
      assertShape(condition.vectors, [B, D], 'Condition embedding vectors');
      kind = 'embedding';
      const vec = new Float32Array(rows * D);
      vec.set(condition.vectors.data, 0);
      if (withNull) {
        const table = getOrThrow(this.params, 'cls_embedding.embedding_table.weight', 'backbone parameter').data as Float32Array;
        const nullRow = table.subarray(this.nullClass * D, (this.nullClass + 1) * D);
        for (let i = B; i < rows; i++) vec.set(nullRow, i * D);
      }
      condFeed = new CpuTensor(vec, [rows, D]);
    } else {
      throw new ConfigError(`Unknown condition kind "${(condition as { kind: string }).kind}"; use 'class', 'embedding' or 'interpolate'.`);
    }
    const graph = await this.#graph(kind);
    const out = await graph.run({
      [BACKBONE_INPUTS.bits]: new CpuTensor(Float32Array.from(bitsData), [rows, N, K]),
      [BACKBONE_INPUTS.mask]: new CpuTensor(maskF, [rows, N]),
      [conditionInputName(kind)]: condFeed,
    });
    const f = required(out['features'], 'backbone output "features"');
    return new CpuTensor(f.data as Float32Array, [rows, N, D]);
  }

  /** Releases every compiled graph. */
  async dispose(): Promise<void> {
    const graphs = [...this.#graphs.values()];
    this.#graphs.clear();
    for (const g of graphs) await (await g).dispose();
  }
}
