/** For the classifier tests: engines, random data, a naive float64 reference network. */
import { at, CpuTensor, getOrThrow, resolveEngine, type Engine, type NamedTensors, type Rng } from '@bigr/core';
import { fashionClassifierParameterShapes, type FashionClassifierConfig } from '../config.js';

/** tfjs on wasm (training engine). */
export async function tfjsEngine(): Promise<Engine> {
  await import('@bigr/engine-tfjs');
  return resolveEngine({ purpose: 'training', device: 'tfjs-wasm' });
}

/** onnxruntime on the CPU (inference engine). */
export async function onnxEngine(): Promise<Engine> {
  await import('@bigr/engine-onnx');
  return resolveEngine({ purpose: 'inference', device: 'onnx-cpu' });
}

/** Random parameters with non-zero biases, so every term of the network matters. */
export function randomParams(config: FashionClassifierConfig, rng: Rng): NamedTensors {
  const out: NamedTensors = new Map();
  for (const [name, shape] of fashionClassifierParameterShapes(config)) {
    const n = shape.reduce((a, b) => a * b, 1);
    const fanIn = name.endsWith('.bias') ? 1 : n / at(shape, 0, `output dimension of ${name}`);
    const std = name.endsWith('.bias') ? 0.1 : Math.sqrt(2 / fanIn);
    const data = rng.normalsF32(n).map((v) => v * std);
    out.set(name, new CpuTensor(data, shape));
  }
  return out;
}

/** Uniform random uint8 images [n, S, S, 1]. */
export function randomImages(n: number, size: number, rng: Rng): CpuTensor<'uint8'> {
  const u = rng.uniformsF32(n * size * size);
  return new CpuTensor(
    Uint8Array.from(u, (v) => Math.floor(v * 256)),
    [n, size, size, 1],
  );
}

/**
 * Synthetic separable "bar" images: class k < 5 has a bright horizontal bar of 3 rows starting at row 3 + 5k,
 * class k ≥ 5 a vertical bar at column 3 + 5(k − 5); each bar is shifted by −1…1 pixels, has brightness 150…255,
 * and the background is uniform noise 0…79. Labels cycle through the classes.
 */
export function barImages(n: number, rng: Rng, size = 28): { images: Uint8Array; labels: Uint8Array } {
  const images = new Uint8Array(n * size * size);
  const labels = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    const k = i % 10;
    labels[i] = k;
    const shift = rng.int(3) - 1;
    const bright = 150 + rng.int(106);
    const start = 3 + 5 * (k % 5) + shift;
    for (let y = 0; y < size; y++) {
      for (let x = 0; x < size; x++) {
        const along = k < 5 ? y : x;
        const onBar = along >= start && along < start + 3;
        images[i * size * size + y * size + x] = onBar ? bright : rng.int(80);
      }
    }
  }
  return { images, labels };
}

/** Outputs of the naive reference. */
export interface ReferenceOutputs {
  readonly pool: Float64Array;
  readonly logits: Float64Array;
  readonly spatial: Float64Array;
}

/**
 * The evaluation network written out in float64 with plain loops (NCHW convolutions with explicit zero padding),
 * independent of the graph code: [conv0 3×3/1 → ReLU →] conv 3×3/2 → ReLU → conv 3×3/2 → (spatial: first k channels, HWC order) → ReLU →
 * HWC flatten → fc1 → ReLU (pool) → fc2 (logits).
 */
export function referenceForward(images: Uint8Array, n: number, params: NamedTensors, config: FashionClassifierConfig): ReferenceOutputs {
  const p = (name: string): Float32Array => getOrThrow(params, name, 'classifier parameter').data as Float32Array;
  const s = config.imageSize;
  const [c1, c2] = config.channels;
  const conv = (x: Float64Array, cin: number, hin: number, w: Float32Array, b: Float32Array, cout: number, stride = 2): Float64Array => {
    const ho = Math.floor((hin + 2 - 3) / stride) + 1;
    const y = new Float64Array(cout * ho * ho);
    for (let o = 0; o < cout; o++) {
      for (let oy = 0; oy < ho; oy++) {
        for (let ox = 0; ox < ho; ox++) {
          let acc = at(b, o, 'bias');
          for (let c = 0; c < cin; c++) {
            for (let ky = 0; ky < 3; ky++) {
              const iy = stride * oy + ky - 1;
              if (iy < 0 || iy >= hin) continue;
              for (let kx = 0; kx < 3; kx++) {
                const ix = stride * ox + kx - 1;
                if (ix < 0 || ix >= hin) continue;
                acc += at(w, ((o * cin + c) * 3 + ky) * 3 + kx, 'weight') * at(x, (c * hin + iy) * hin + ix, 'input');
              }
            }
          }
          y[(o * ho + oy) * ho + ox] = acc;
        }
      }
    }
    return y;
  };
  const m = s / 4;
  const k = config.spatialChannels;
  const pool = new Float64Array(n * config.hidden);
  const logits = new Float64Array(n * config.classes);
  const spatial = new Float64Array(n * m * m * k);
  for (let i = 0; i < n; i++) {
    const x = Float64Array.from(images.subarray(i * s * s, (i + 1) * s * s), (v) => v / 255);
    const c0 = config.stemChannels;
    const a0 = c0 > 0 ? conv(x, 1, s, p('conv0.weight'), p('conv0.bias'), c0, 1).map((v) => Math.max(v, 0)) : x;
    const a1 = conv(a0, c0 > 0 ? c0 : 1, s, p('conv1.weight'), p('conv1.bias'), c1).map((v) => Math.max(v, 0));
    const y2 = conv(a1, c1, s / 2, p('conv2.weight'), p('conv2.bias'), c2);
    const flat = new Float64Array(m * m * c2);
    for (let c = 0; c < c2; c++) {
      for (let yy = 0; yy < m; yy++) {
        for (let xx = 0; xx < m; xx++) {
          const v = at(y2, (c * m + yy) * m + xx, 'conv2 output');
          flat[(yy * m + xx) * c2 + c] = Math.max(v, 0);
          if (c < k) spatial[i * m * m * k + (yy * m + xx) * k + c] = v;
        }
      }
    }
    const w1 = p('fc1.weight');
    const b1 = p('fc1.bias');
    const h = new Float64Array(config.hidden);
    for (let o = 0; o < config.hidden; o++) {
      let acc = at(b1, o, 'fc1 bias');
      for (const [j, f] of flat.entries()) acc += at(w1, o * flat.length + j, 'fc1 weight') * f;
      const hidden = Math.max(acc, 0);
      h[o] = hidden;
      pool[i * config.hidden + o] = hidden;
    }
    const w2 = p('fc2.weight');
    const b2 = p('fc2.bias');
    for (let o = 0; o < config.classes; o++) {
      let acc = at(b2, o, 'fc2 bias');
      for (const [j, hj] of h.entries()) acc += at(w2, o * config.hidden + j, 'fc2 weight') * hj;
      logits[i * config.classes + o] = acc;
    }
  }
  return { pool, logits, spatial };
}
