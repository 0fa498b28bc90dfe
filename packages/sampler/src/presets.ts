/**
 * Named hyper-parameter sets (paper Table 7; the released scripts, Colab and CLI; the zero-shot app scripts),
 * docs/algorithm.md §6 and §8.
 */
import { NotFoundError } from '@bigr/core';
import { DEFAULT_SAMPLING, resolveSettings } from './settings.js';
import type { SamplingSettings } from './settings.js';

/** A sampling preset: loop settings plus the transcoder settings to build the predictor with. */
export interface SamplerPreset extends SamplingSettings {
  /** Where the values come from. */
  readonly source: string;
  /** Inference diffusion steps S of the transcoder. */
  readonly diffusionSteps: number;
  /** Total diffusion steps T the model was trained with. */
  readonly totalDiffusionSteps: number;
  /** Transcoder temperature τ_s. */
  readonly sampleTemperature: number;
}

const base = { ...DEFAULT_SAMPLING, diffusionSteps: 100, totalDiffusionSteps: 256, sampleTemperature: 1.0 };
const app = { ...base, gumbelTemperature: 0, unmaskSchedule: 'linear' as const, budget: 'known' as const };

/** Names of the built-in presets. */
export type PresetName = 'L' | 'XL' | 'XXL' | 'script' | 'script-512' | 'colab' | 'cli' | 'inpaint' | 'outpaint' | 'edit' | 'interpolate' | 'enrich';

/**
 * Built-in presets.
 * - 'L' / 'XL' / 'XXL': paper Table 7 (FID settings): s = 2.5; I = 20 / 25 / 25; τ_g = 0.17 / 0.25 / 0.30; constant
 *   schedules (which Gumbel schedule produced Table 7 is AMBIG; constant is the sample.py default).
 * - 'script': script/sample.sh for L-d24 ("visual quality"): s = 3.0, I = 20, τ_g = 0.01, constant.
 *   'script-512': sample_512.sh, the same settings (BiGR-L-512, K = 32).
 * - 'colab': s = 2.5, I = 20, τ_g = 0.01, Gumbel schedule 'down'.
 * - 'cli': sample.py argparse defaults: s = 4.0, I = 10, τ_g = 0, constant.
 * - 'inpaint' / 'outpaint' / 'edit': app scripts: s = 2.5, I = 25, τ_g = 0, linear unmask schedule, 'known' budget.
 * - 'interpolate': s = 2.5, I = 20, τ_g = 0 (cosine schedule, as generation).
 * - 'enrich': s = 10 (no effect with the null class), I = 20, τ_g = 0, linear schedule, 'known' budget.
 * All use S = 100 of T = 256 diffusion steps and τ_s = 1.
 */
export const PRESETS: Readonly<Record<PresetName, SamplerPreset>> = Object.freeze({
  L: { ...base, source: 'paper Table 7, BiGR-L', cfgScale: 2.5, iterations: 20, gumbelTemperature: 0.17 },
  XL: { ...base, source: 'paper Table 7, BiGR-XL', cfgScale: 2.5, iterations: 25, gumbelTemperature: 0.25 },
  XXL: { ...base, source: 'paper Table 7, BiGR-XXL', cfgScale: 2.5, iterations: 25, gumbelTemperature: 0.3 },
  script: { ...base, source: 'script/sample.sh (L-d24)', cfgScale: 3.0, iterations: 20, gumbelTemperature: 0.01 },
  'script-512': { ...base, source: 'script/sample_512.sh (L-512)', cfgScale: 3.0, iterations: 20, gumbelTemperature: 0.01 },
  colab: { ...base, source: 'official Colab', cfgScale: 2.5, iterations: 20, gumbelTemperature: 0.01, gumbelSchedule: 'down' },
  cli: { ...base, source: 'sample.py argparse defaults', cfgScale: 4.0, iterations: 10, gumbelTemperature: 0 },
  inpaint: { ...app, source: 'script/app_inpaint.sh', cfgScale: 2.5, iterations: 25 },
  outpaint: { ...app, source: 'script/app_outpaint.sh', cfgScale: 2.5, iterations: 25 },
  edit: { ...app, source: 'script/app_edit.sh', cfgScale: 2.5, iterations: 25 },
  interpolate: { ...base, source: 'apps/interpolate.py', cfgScale: 2.5, iterations: 20, gumbelTemperature: 0 },
  enrich: { ...app, source: 'apps/enrich.py', cfgScale: 10.0, iterations: 20 },
});

/** Looks up a preset by name (throws {@link NotFoundError} listing the valid names). */
export function getPreset(name: string): SamplerPreset {
  const p = (PRESETS as Record<string, SamplerPreset>)[name];
  if (!p) throw new NotFoundError(`Unknown sampler preset ${JSON.stringify(name)}; available: ${Object.keys(PRESETS).join(', ')}.`);
  return p;
}

/** The Table 7 preset for a model size ('L', 'XL', 'XXL'; 'L-512' uses the L settings). */
export function presetForModelSize(size: 'L' | 'XL' | 'XXL' | 'L-512'): SamplerPreset {
  return size === 'L-512' ? PRESETS.L : PRESETS[size];
}

/** Only the loop settings of a preset (drops the transcoder fields), for spreading into sampler options. */
export function presetSettings(preset: SamplerPreset): SamplingSettings {
  return resolveSettings({}, preset);
}
