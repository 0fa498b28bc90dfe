/** For the tests: random weights, fixture access, engines. Test-only. */
import { join } from 'node:path';
import { CpuTensor, createRng, getOrThrow, lastDim, readSafetensors, resolveEngine, type Engine, type NamedTensors, type Rng } from '@bigr/core';
import type { BackboneConfig } from '../config.js';
import { backboneParameterShapes } from '../stateDict.js';
import type { RefConfig } from './reference.js';

/** Random weights with non-trivial adaLN and norms (like the fixture rules), so every path matters. */
export function randomBackboneParams(config: BackboneConfig, rng: Rng): NamedTensors {
  const out: NamedTensors = new Map();
  for (const [name, shape] of backboneParameterShapes(config)) {
    const n = shape.reduce((a, b) => a * b, 1);
    const fanIn = shape.length >= 2 ? lastDim(shape, name) : 1;
    let std: number;
    let mean = 0;
    if (name.endsWith('norm.weight')) {
      std = 0.1;
      mean = 1;
    } else if (name === 'mask_tok' || name.startsWith('cls_embedding')) std = 1;
    else if (name.endsWith('ada_gss')) std = 0.15;
    else if (name === 'diffusion_pos_embed_learned') std = 0.2;
    else if (name.endsWith('.bias')) std = 0.05;
    else std = (name.startsWith('adaLN') ? 0.5 : 1) / Math.sqrt(fanIn);
    const data = rng.normalsF32(n);
    for (const [i, v] of data.entries()) data[i] = mean + std * v;
    out.set(name, new CpuTensor(data, shape));
  }
  return out;
}

/** The reference's view of a config. */
export function refConfig(c: BackboneConfig): RefConfig {
  return {
    dim: c.dim,
    layers: c.layers,
    heads: c.heads,
    bitsPerToken: c.bitsPerToken,
    tokens: c.tokens,
    numClasses: c.numClasses,
    normEps: c.normEps,
    ropeBase: c.ropeBase,
    clsTokenNum: c.clsTokenNum,
  };
}

/** Random 0/1 bits as float32. */
export function randomBits(n: number, rng: Rng): Float32Array {
  const u = rng.uniformsF32(n);
  return u.map((v) => (v < 0.5 ? 1 : 0));
}

/** Path of an official-tiny fixture file. */
export function fixturePath(name: string): string {
  const root = process.env['BIGR_REPO_ROOT'];
  if (!root) throw new Error('BIGR_REPO_ROOT is not set (the jest setup sets it).');
  return join(root, 'packages/testing/fixtures/official-tiny', name);
}

/** Reads a fixture safetensors file. */
export async function readFixture(name: string): Promise<NamedTensors> {
  return (await readSafetensors(fixturePath(name))).tensors;
}

/** An engine by exact name, importing both engine packages first. */
export async function engineNamed(name: string, purpose: 'inference' | 'training' = 'inference'): Promise<Engine> {
  await import('@bigr/engine-tfjs');
  await import('@bigr/engine-onnx');
  return resolveEngine({ purpose, device: name });
}

export { named } from '@bigr/testing';

/** A tensor of a fixture or parameter map. */
export function tensorNamed(tensors: NamedTensors, name: string): CpuTensor {
  return getOrThrow(tensors, name, 'tensor');
}

/** A seeded Rng. */
export function rngFor(seed: number | string): Rng {
  return createRng(seed);
}
