/**
 * Test support (not exported by the package): released-layout checkpoints built from the official-tiny fixture
 * weights with core's `writeTorchStateDict`, so the importer is tested on the zip + pickle layout torch writes.
 */
import { CpuTensor, getOrThrow, type NamedTensors } from '@bigr/core';
import { writeTorchStateDict, type TorchArgValue } from '@bigr/torch';
import { loadFixture } from '@bigr/testing';

/** `args` as `train_ddp.py` stores them next to the EMA weights (a few representative fields). */
export const TINY_ARGS: Readonly<Record<string, TorchArgValue>> = {
  model: 'BiGR-tiny',
  codebook_size: 16,
  num_classes: 10,
  image_size: 32,
  p_flip: true,
  focal: 0.0,
  cfg_scale: 4.0,
};

/**
 * The official-tiny BiGR state dict (76 keys) in its file order. As in a torch checkpoint, each
 * `diffusion_processor._denoise_fn.*` tensor shares the data array of its `denoise_mlp.*` twin (one storage),
 * unless `separateDuplicate`.
 */
export async function tinyBigrStateDict(separateDuplicate = false): Promise<Map<string, CpuTensor>> {
  const src = (await loadFixture('tiny_transformer_weights.safetensors')).tensors;
  const out = new Map<string, CpuTensor>();
  for (const [name, t] of src) out.set(name, new CpuTensor(Float32Array.from(t.data as Float32Array), t.shape));
  if (!separateDuplicate) {
    for (const [name, t] of out) {
      if (!name.startsWith('diffusion_processor._denoise_fn.')) continue;
      const twin = getOrThrow(out, name.replace('diffusion_processor._denoise_fn.', 'denoise_mlp.'), 'denoise_mlp twin');
      out.set(name, new CpuTensor(twin.data as Float32Array, t.shape));
    }
  }
  return out;
}

/** Writes a BiGR training checkpoint `{"ema": state_dict, "args": Namespace}` (the released `bigr_*.pt` layout). */
export async function writeBigrPt(path: string, tensors: ReadonlyMap<string, CpuTensor>, wrapKey: 'ema' | 'model' = 'ema'): Promise<void> {
  await writeTorchStateDict(path, tensors, { wrapKey, args: TINY_ARGS });
}

/** Fake GAN-training tensors of a released `binaryae_ema_*.th` (PatchGAN discriminator with BatchNorm stats, LPIPS). */
function ganTensors(): Map<string, CpuTensor> {
  const f = (shape: number[], v = 0.01): CpuTensor => new CpuTensor(new Float32Array(shape.reduce((a, b) => a * b, 1)).fill(v), shape);
  return new Map([
    ['disc.main.0.weight', f([64, 3, 4, 4])],
    ['disc.main.0.bias', f([64])],
    ['disc.main.3.weight', f([128])],
    ['disc.main.3.running_mean', f([128], 0)],
    ['disc.main.3.num_batches_tracked', new CpuTensor(Int32Array.of(123456), [])],
    ['perceptual.net.slice1.0.weight', f([64, 3, 3, 3])],
    ['perceptual.lin0.model.1.weight', f([1, 64, 1, 1])],
  ]);
}

/** The official-tiny B-AE weights (official names without the `ae.` prefix, unused tensors included). */
export async function tinyBaeStateDict(): Promise<NamedTensors> {
  return (await loadFixture('tiny_bae_weights.safetensors')).tensors;
}

/**
 * Writes a released-layout B-AE checkpoint: a raw state dict of the EMA BinaryGAN with `ae.*` (the fixture B-AE),
 * `disc.*` and `perceptual.*`, plus `extra` tensors.
 */
export async function writeBaeTh(path: string, bae: ReadonlyMap<string, CpuTensor>, extra: ReadonlyMap<string, CpuTensor> = new Map()): Promise<void> {
  const all = new Map<string, CpuTensor>();
  for (const [k, v] of bae) all.set(`ae.${k}`, v);
  for (const [k, v] of ganTensors()) all.set(k, v);
  for (const [k, v] of extra) all.set(k, v);
  await writeTorchStateDict(path, all, { storeAs: { 'disc.main.3.num_batches_tracked': 'int64' } });
}
