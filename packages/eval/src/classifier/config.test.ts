import { ConfigError } from '@bigr/core';
import { DEFAULT_FASHION_CLASSIFIER_CONFIG, fashionClassifierParameterShapes, parseFashionClassifierConfig, spatialDim } from './config.js';
import { fashionClassifierGraph } from './graph.js';

describe('fashion classifier config', () => {
  test('defaults follow docs/evaluation.md §9.2: 128-d pool, 10 logits, 343-d spatial', () => {
    const c = parseFashionClassifierConfig();
    expect(c).toEqual(DEFAULT_FASHION_CLASSIFIER_CONFIG);
    expect([c.hidden, c.classes, spatialDim(c)]).toEqual([128, 10, 343]);
    expect(fashionClassifierParameterShapes(c).get('fc1.weight')).toEqual([128, 7 * 7 * 32]);
    const stem = fashionClassifierParameterShapes(parseFashionClassifierConfig({ stemChannels: 8 }));
    expect(stem.get('conv0.weight')).toEqual([8, 1, 3, 3]);
    expect(stem.get('conv1.weight')).toEqual([16, 8, 3, 3]);
    const g = fashionClassifierGraph();
    expect(g.inputs).toEqual([{ name: 'images', dtype: 'float32', shape: ['batch', 28, 28, 1] }]);
    expect(g.outputs).toEqual(['pool', 'logits', 'spatial']);
  });

  test('invalid values are refused with the value and the expectation', () => {
    expect(() => parseFashionClassifierConfig({ imageSize: 30 })).toThrow(/imageSize 30 is not a multiple of 4/);
    expect(() => parseFashionClassifierConfig({ channels: [16] })).toThrow(/"channels" is \[16\]/);
    expect(() => parseFashionClassifierConfig({ hidden: 0 })).toThrow(/"hidden" is 0; expected an integer >= 1/);
    expect(() => parseFashionClassifierConfig({ stemChannels: -1 })).toThrow(/"stemChannels" is -1; expected an integer >= 0/);
    expect(() => parseFashionClassifierConfig({ channels: [4, 6], spatialChannels: 7 })).toThrow(/spatialChannels 7 exceeds the 6 channels/);
    expect(() => parseFashionClassifierConfig([])).toThrow(ConfigError);
    expect(() => fashionClassifierGraph({}, { convolution: 'fft' as never })).toThrow(/Unknown convolution mode "fft"/);
  });
});
