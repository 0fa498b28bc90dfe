import { readBigrModel, type BigrModelConfig, type TranscoderBigrModelConfig } from '@bigr/pipeline';
import { bundledModelDir } from './modelPaths.js';
import { diffusionStepsOption, withModelDiffusionSteps } from './diffusionSteps.js';

describe('the diffusion steps a command runs with', () => {
  it('is the flag when > 0, else the model directory’s transcoder.inferenceSteps; other settings pass through', async () => {
    const { config } = await readBigrModel(bundledModelDir());
    if (config.head === 'categorical') throw new Error('the bundled model has a transcoder head');
    const own = config.transcoder.inferenceSteps;
    expect(own).toBeGreaterThan(0);
    expect(withModelDiffusionSteps({ diffusionSteps: 0, seed: 7 }, config)).toEqual({ diffusionSteps: own, seed: 7 });
    expect(withModelDiffusionSteps({ diffusionSteps: own + 3, seed: 7 }, config)).toEqual({ diffusionSteps: own + 3, seed: 7 });
  });

  it('leaves a categorical model’s settings as they are (its head has no diffusion)', async () => {
    const { config } = await readBigrModel(bundledModelDir());
    const { transcoder, ...common } = config as TranscoderBigrModelConfig;
    const categorical: BigrModelConfig = {
      ...common,
      head: 'categorical',
      categorical: { bitsPerToken: transcoder.bitsPerToken, featureDim: transcoder.featureDim, prefix: 'cat_head' },
    };
    expect(withModelDiffusionSteps({ diffusionSteps: 0 }, categorical)).toEqual({ diffusionSteps: 0 });
  });

  it('asks the pipeline for the model’s own steps by leaving the field out', () => {
    expect(diffusionStepsOption(0)).toEqual({});
    expect(diffusionStepsOption(40)).toEqual({ diffusionSteps: 40 });
  });
});
