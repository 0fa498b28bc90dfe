import { readSafetensors, writeSafetensors, type CpuTensor } from '@bigr/core';
import type { DenoiserSizes } from './denoiser.js';
import { checkedParameters, fromContent, TRANSCODER_METADATA_KEY, wanted, type LoadedTranscoderWeights, type LoadTranscoderWeightsOptions } from './weights.js';

// Node-only transcoder weight files; the in-memory parse/serialise functions are in weights.ts.

/**
 * Reads the denoiser from a safetensors file: a transcoder file written by {@link saveTranscoderWeights} or a full
 * official BiGR state dict (only `denoise_mlp.*`, its duplicate and the scheduler buffers are decoded).
 */
export async function loadTranscoderWeights(path: string, options: LoadTranscoderWeightsOptions = {}): Promise<LoadedTranscoderWeights> {
  const content = await readSafetensors(path, { filter: wanted(options.prefix ?? 'denoise_mlp', options.verifyDuplicate !== false) });
  return fromContent(content, path, options);
}

/**
 * Writes the denoiser parameters (official names and (out, in) layout) as safetensors, atomically, with the sizes in
 * the `__metadata__` entry {@link TRANSCODER_METADATA_KEY}. Every parameter's shape is checked first.
 */
export async function saveTranscoderWeights(path: string, params: ReadonlyMap<string, CpuTensor>, sizes: DenoiserSizes): Promise<void> {
  await writeSafetensors(path, checkedParameters(params, sizes), { [TRANSCODER_METADATA_KEY]: JSON.stringify(sizes) });
}
