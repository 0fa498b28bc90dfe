/**
 * The transcoder's diffusion steps a command runs with (docs/algorithm.md §3): `--diffusion-steps` when > 0, else the
 * model directory's `transcoder.inferenceSteps`. Runs, sidecars and resume keys record the resolved value, so one
 * run's record names the steps actually used whichever way they were chosen.
 */
import { modelDiffusionSteps, type BigrModelConfig } from '@bigr/pipeline';

/** `cfg` with `diffusionSteps` resolved against the model (unchanged for the categorical head, which has none). */
export function withModelDiffusionSteps<T extends { readonly diffusionSteps: number }>(cfg: T, config: BigrModelConfig): T {
  return { ...cfg, diffusionSteps: modelDiffusionSteps(config, cfg.diffusionSteps) ?? cfg.diffusionSteps };
}

/** The request field for the pipeline or a sampler pool: `{ diffusionSteps }` when set (> 0), else none (the model's own). */
export function diffusionStepsOption(steps: number): { diffusionSteps?: number } {
  return steps > 0 ? { diffusionSteps: steps } : {};
}
