/**
 * For the tests: fixture paths and stub predictors / tokenizers with known behaviour.
 */
import path from 'node:path';
import { at, CpuTensor, dims2, dims3, dims4, required } from '@bigr/core';
import type { BinaryTokenizer, Condition, MaskedBitPredictor, PredictRequest, Rng } from '@bigr/core';
import type { IterationSnapshot, SampleResult } from '../generate.js';

/** Directory of the official tiny fixtures. */
export function fixtureDir(): string {
  const root = process.env.BIGR_REPO_ROOT;
  if (!root) throw new Error('BIGR_REPO_ROOT is not set; run the tests through jest (the setup file sets it).');
  return path.join(root, 'packages/testing/fixtures/official-tiny');
}

function mix32(x: number): number {
  x = Math.imul(x ^ (x >>> 16), 0x7feb352d);
  x = Math.imul(x ^ (x >>> 15), 0x846ca68b);
  return (x ^ (x >>> 16)) >>> 0;
}

/** Labels of any condition kind, flattened to one number per sample (for hashing). */
export function conditionKey(c: Condition, b: number): number {
  if (c.kind === 'class') return at(c.labels, b, 'label');
  if (c.kind === 'interpolate') return at(c.a, b, 'first class') * 1000 + at(c.b, b, 'second class') + Math.round(c.weight * 1e6);
  return Math.round(at(c.vectors.data, b * dims2(c.vectors.shape, 'embedding condition')[1], 'embedding') * 1e6);
}

/** Calls recorded by a stub predictor. */
export interface RecordedCall {
  readonly request: PredictRequest;
  readonly needed: readonly Int32Array[] | undefined;
}

/**
 * A predictor whose probabilities are a hash of (sample, token, bit, the sample's committed bits, its condition and
 * the cfg scale). It returns 0.5 for tokens not in `needed`, so a sampler that uses a prediction it did not ask
 * for gets different results. Consumes no randomness.
 */
export function hashPredictor(tokens: number, bitsPerToken: number, nullClass = 10): MaskedBitPredictor & { calls: RecordedCall[] } {
  const calls: RecordedCall[] = [];
  return {
    tokens,
    bitsPerToken,
    nullClass,
    calls,
    async predict(request: PredictRequest) {
      calls.push({ request, needed: request.needed });
      const [B] = dims3(request.bits.shape, 'predictor bits');
      const N = tokens;
      const K = bitsPerToken;
      const out = new Float32Array(B * N * K).fill(0.5);
      for (let b = 0; b < B; b++) {
        let state = mix32(conditionKey(request.condition, b) + 7919 + Math.round(request.cfgScale * 1000));
        for (let n = 0; n < N; n++) {
          if (request.mask.data[b * N + n]) continue;
          let v = n + 1;
          for (let k = 0; k < K; k++) v = v * 3 + at(request.bits.data, (b * N + n) * K + k, 'bit');
          state = mix32(state ^ mix32(v));
        }
        const list = request.needed ? at(request.needed, b, 'needed tokens') : Int32Array.from({ length: N }, (_, n) => n);
        for (const n of list) {
          const sharp = mix32(state ^ (n * 977)) / 4294967296; // per-token sharpness, spreads confidences
          for (let k = 0; k < K; k++) {
            const h = mix32(state ^ mix32(n * 131 + k)) / 4294967296;
            const p = 0.5 + (h - 0.5) * (0.2 + 0.8 * sharp);
            out[(b * N + n) * K + k] = p;
          }
        }
      }
      return new CpuTensor<'float32'>(out, [B, N, K]);
    },
  };
}

/** A predictor returning fixed probabilities [B, N, K] whatever the state; records its calls. */
export function fixedPredictor(
  probs: Float32Array,
  batch: number,
  tokens: number,
  bitsPerToken: number,
  nullClass = 10,
): MaskedBitPredictor & { calls: RecordedCall[] } {
  const calls: RecordedCall[] = [];
  return {
    tokens,
    bitsPerToken,
    nullClass,
    calls,
    async predict(request: PredictRequest) {
      calls.push({ request, needed: request.needed });
      return new CpuTensor<'float32'>(probs.slice(), [batch, tokens, bitsPerToken]);
    },
  };
}

/**
 * A tiny tokenizer: grid rows×cols, K bits, images [B, 1, 2·rows, 2·cols]. encode: bit k of token (r, c) is
 * Bernoulli(pixel (2r + (k & 1), 2c + ((k >> 1) & 1))). decode: each token's bits written back to those pixels.
 */
export function stubTokenizer(rows: number, cols: number, bitsPerToken: number): BinaryTokenizer & { encodeCalls: number } {
  const H = rows * 2;
  const W = cols * 2;
  const self = {
    bitsPerToken,
    grid: [rows, cols] as const,
    imageShape: [1, H, W] as const,
    encodeCalls: 0,
    async encode(images: CpuTensor<'float32'>, options: { mode: 'bernoulli' | 'threshold'; rng?: Rng }) {
      self.encodeCalls++;
      const [B] = dims4(images.shape, 'images');
      const N = rows * cols;
      const probs = new Float32Array(B * N * bitsPerToken);
      for (let b = 0; b < B; b++)
        for (let r = 0; r < rows; r++)
          for (let c = 0; c < cols; c++)
            for (let k = 0; k < bitsPerToken; k++) {
              const y = 2 * r + (k & 1);
              const x = 2 * c + ((k >> 1) & 1);
              probs[(b * N + r * cols + c) * bitsPerToken + k] = at(images.data, (b * H + y) * W + x, 'pixel');
            }
      const u = options.mode === 'bernoulli' ? required(options.rng, 'rng of a bernoulli encode').uniformsF32(probs.length) : null;
      const bits = Uint8Array.from(probs, (p, i) => (u ? (at(u, i, 'uniform') < p ? 1 : 0) : p > 0.5 ? 1 : 0));
      return { bits: new CpuTensor<'uint8'>(bits, [B, N, bitsPerToken]), probabilities: new CpuTensor<'float32'>(probs, [B, N, bitsPerToken]) };
    },
    async decode(bits: CpuTensor<'uint8'> | CpuTensor<'float32'>) {
      const [B] = dims3(bits.shape, 'bits');
      const N = rows * cols;
      const img = new Float32Array(B * H * W);
      for (let b = 0; b < B; b++)
        for (let r = 0; r < rows; r++)
          for (let c = 0; c < cols; c++)
            for (let k = 0; k < Math.min(4, bitsPerToken); k++) {
              img[(b * H + 2 * r + (k & 1)) * W + 2 * c + ((k >> 1) & 1)] = at(bits.data, (b * N + r * cols + c) * bitsPerToken + k, 'bit');
            }
      return new CpuTensor<'float32'>(img, [B, 1, H, W]);
    },
  };
  return self;
}

/**
 * A predictor that looks up a class embedding table (float32) and mixes it for 'interpolate' conditions as the
 * backbone does (w·E[a] + (1−w)·E[b] in float32), then hashes the embedding's float32 bits with the state.
 */
export function embeddingPredictor(tokens: number, bitsPerToken: number, classes = 11, dim = 4): MaskedBitPredictor {
  const table = Float32Array.from({ length: classes * dim }, (_, i) => Math.sin(i * 1.7) * 2);
  const f = Math.fround;
  const embedding = (c: Condition, b: number): Float32Array => {
    const row = (y: number) => table.subarray(y * dim, (y + 1) * dim);
    if (c.kind === 'class') return row(at(c.labels, b, 'label')).slice();
    if (c.kind === 'interpolate') {
      const ea = row(at(c.a, b, 'first class'));
      const eb = row(at(c.b, b, 'second class'));
      return Float32Array.from(ea, (v, d) => f(f(c.weight * v) + f((1 - c.weight) * at(eb, d, 'embedding'))));
    }
    return c.vectors.data.slice(b * dim, (b + 1) * dim);
  };
  return {
    tokens,
    bitsPerToken,
    nullClass: classes - 1,
    async predict(request: PredictRequest) {
      const [B] = dims3(request.bits.shape, 'predictor bits');
      const out = new Float32Array(B * tokens * bitsPerToken);
      for (let b = 0; b < B; b++) {
        const e = new Uint32Array(embedding(request.condition, b).buffer);
        let state = 12345;
        for (const w of e) state = mix32(state ^ w);
        for (let n = 0; n < tokens; n++) {
          if (request.mask.data[b * tokens + n]) continue;
          let v = n + 1;
          for (let k = 0; k < bitsPerToken; k++) v = v * 3 + at(request.bits.data, (b * tokens + n) * bitsPerToken + k, 'bit');
          state = mix32(state ^ mix32(v));
        }
        for (let n = 0; n < tokens; n++)
          for (let k = 0; k < bitsPerToken; k++) out[(b * tokens + n) * bitsPerToken + k] = mix32(state ^ mix32(n * 131 + k)) / 4294967296;
      }
      return new CpuTensor<'float32'>(out, [B, tokens, bitsPerToken]);
    },
  };
}

/** The snapshots of a run that asked for them (`snapshots: true`). */
export function snapshotsOf(result: SampleResult): readonly IterationSnapshot[] {
  return required(result.snapshots, 'snapshots of a run with snapshots: true');
}

/** Snapshot `i` of a run that asked for snapshots. */
export function snapshotAt(result: SampleResult, i: number): IterationSnapshot {
  return at(snapshotsOf(result), i, 'snapshot');
}

/** The tokens sample `b` committed in a snapshot, in commit order. */
export function chosenOf(snapshot: IterationSnapshot, b = 0): number[] {
  return Array.from(at(snapshot.chosen, b, 'chosen tokens'));
}

/** The token indices a recorded predictor call asked for in sample `b` (the call must have passed `needed`). */
export function neededOf(call: RecordedCall, b = 0): number[] {
  return Array.from(at(required(call.needed, 'needed lists of a predictor call'), b, 'needed tokens'));
}
