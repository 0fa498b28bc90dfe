/**
 * Official-model parity: the full class-conditional generation of
 * generate_replay.safetensors, replayed with our real backbone (BackboneFeatureModel) and binary transcoder
 * (TranscoderSampler) on the official tiny weights, fed the recorded random draws (u_stream, gumbel_stream), must
 * reproduce the official bits exactly — free-running, without teacher forcing. Then final_seq is decoded with the
 * tiny B-AE and compared with bae.safetensors `pipeline_image` (docs/fixtures.md, `generate_replay.safetensors` and
 * `bae.safetensors`; docs/algorithm.md §6).
 */
import '@bigr/engine-onnx';
import '@bigr/engine-tfjs';
import { type CpuTensor, resolveEngine, required } from '@bigr/core';
import type { Engine, MaskedBitPredictor, NamedTensors, PredictRequest } from '@bigr/core';
import { BackboneFeatureModel, presetConfig } from '@bigr/backbone';
import { TranscoderSampler, inferDenoiserSizes, resolveTranscoderConfig } from '@bigr/transcoder';
import { createBigrPredictor, createReplayRng, generate } from '@bigr/sampler';
import type { SampleResult } from '@bigr/sampler';
import { BaeTokenizer, configFromHparams } from '@bigr/tokenizer';
import { expectClose, loadFixture, loadJsonFixture } from '@bigr/testing';

type Tensors = ReadonlyMap<string, CpuTensor>;

function tensor(map: Tensors, name: string): CpuTensor {
  const t = map.get(name);
  if (!t) throw new Error(`fixture tensor ${name} is missing`);
  return t;
}

/** What one predictor call received and returned (copies). */
interface PredictCall {
  readonly bits: Float32Array;
  readonly mask: Uint8Array;
  readonly cfgScale: number;
  readonly needed: boolean;
  readonly uniformsBefore: number;
  readonly uniformsAfter: number;
  readonly probs: Float32Array;
}

/** Wraps a predictor to record every call (the snapshots carry scores and choices, not the predictions). */
function recording(inner: MaskedBitPredictor, uniformsLeft: () => number, calls: PredictCall[]): MaskedBitPredictor {
  return {
    tokens: inner.tokens,
    bitsPerToken: inner.bitsPerToken,
    nullClass: inner.nullClass,
    async predict(request: PredictRequest) {
      const uniformsBefore = uniformsLeft();
      const out = await inner.predict(request);
      calls.push({
        bits: Float32Array.from(request.bits.data),
        mask: Uint8Array.from(request.mask.data),
        cfgScale: request.cfgScale,
        needed: request.needed !== undefined,
        uniformsBefore,
        uniformsAfter: uniformsLeft(),
        probs: Float32Array.from(out.data),
      });
      return out;
    },
  };
}

describe('official generate_with_cfg replay with the real backbone and transcoder (generate_replay.safetensors)', () => {
  let weights: NamedTensors;
  let replay: { tensors: Tensors; metadata: Record<string, string> };
  let modelArgs: Record<string, unknown>;
  const results = new Map<string, SampleResult>();

  beforeAll(async () => {
    weights = (await loadFixture('tiny_transformer_weights.safetensors')).tensors as NamedTensors;
    const r = await loadFixture('generate_replay.safetensors');
    replay = { tensors: r.tensors as Tensors, metadata: r.metadata };
    modelArgs = ((await loadJsonFixture('tiny_transformer_config.json')) as { model_args: Record<string, unknown> }).model_args;
  });

  it.each(['onnx-cpu', 'tfjs-wasm'])(
    'reproduces pred, confidence, chosen tokens and final_seq bit for bit, consuming every recorded draw (%s)',
    async (device) => {
      const { tensors: f, metadata: meta } = replay;
      const engine: Engine = await resolveEngine({ purpose: 'inference', device });
      expect(engine.name).toBe(device);

      const backbone = presetConfig('BiGR-tiny');
      expect([backbone.dim, backbone.layers, backbone.heads, backbone.bitsPerToken, backbone.tokens, backbone.numClasses]).toEqual([
        modelArgs['dim'],
        modelArgs['n_layer'],
        modelArgs['n_head'],
        modelArgs['binary_size'],
        modelArgs['seq_len'],
        modelArgs['num_classes'],
      ]);
      const inferSteps = Number(meta['infer_steps']);
      expect(inferSteps).toBe(20); // `model.infer_steps = 20` in the fixture run (the config's 100 is overridden)
      const transcoder = resolveTranscoderConfig({
        ...inferDenoiserSizes(weights),
        timesteps: Number(modelArgs['n_sample_steps']),
        inferenceSteps: inferSteps,
      });
      expect([transcoder.width, transcoder.blocks, transcoder.timesteps, transcoder.target]).toEqual([
        modelArgs['denoise_hidden_dim'],
        modelArgs['num_block_mlp'],
        256,
        'xor',
      ]);

      const features = new BackboneFeatureModel(engine, backbone, weights);
      const head = await TranscoderSampler.create(engine, weights, transcoder);
      try {
        const uStream = tensor(f, 'u_stream').data as Float32Array;
        const gStream = tensor(f, 'gumbel_stream').data as Float64Array;
        const rng = createReplayRng({ uniforms: uStream, gumbels: gStream });
        const calls: PredictCall[] = [];
        const predictor = recording(
          createBigrPredictor(features, head, { steps: inferSteps, temperature: Number(meta['temperature']) }),
          () => rng.uniformsLeft,
          calls,
        );
        const iterations = Number(meta['num_iter']);
        const labels = tensor(f, 'labels').data as Int32Array;
        expect(Array.from(labels)).toEqual([3, 7]);
        const result = await generate({
          predictor,
          condition: { kind: 'class', labels },
          rng,
          iterations,
          cfgScale: Number(meta['cfg_scale']),
          cfgSchedule: meta['cfg_schedule'] as 'constant',
          gumbelTemperature: Number(meta['gumbel_temp']),
          gumbelSchedule: meta['gumbel_schedule'] as 'constant',
          predictOnlyNeeded: false,
          snapshots: true,
        });
        results.set(device, result);

        // One predictor call per iteration over every token (the released work pattern), each drawing exactly
        // 1 diffusion_init + (S − 1) diffusion_posterior uniform blocks of B·N·K.
        const B = 2;
        const N = 16;
        const K = 16;
        expect(iterations).toBe(4);
        expect(calls).toHaveLength(iterations);
        expect(result.predictorCalls).toBe(iterations);
        expect(result.usedFallback).toBe(false);
        const numel = tensor(f, 'bern_call_numel').data as Int32Array;
        const kinds = required(meta['bern_call_kinds'], 'bern_call_kinds metadata').split(',');
        expect(kinds).toHaveLength(iterations * (inferSteps + 1));

        for (let i = 0; i < iterations; i++) {
          const call = required(calls[i], 'predictor call');
          const snap = required(result.snapshots?.[i], 'snapshot');
          const what = `${device} iteration ${i}`;
          // inputs: the state entering the iteration
          expect(call.needed).toBe(false);
          expect(call.cfgScale).toBe(2.5);
          expect(Array.from(call.mask)).toEqual(Array.from(tensor(f, `iter${i}_mask_before`).data));
          expect(Array.from(call.bits)).toEqual(Array.from(tensor(f, `iter${i}_seq_before`).data));
          expect(Array.from(snap.maskBefore.data)).toEqual(Array.from(tensor(f, `iter${i}_mask_before`).data));
          // RNG consumption inside the predictor: the diffusion calls of this iteration in the fixture's call list
          const callKinds = kinds.slice(i * (inferSteps + 1), (i + 1) * (inferSteps + 1));
          expect(callKinds).toEqual(['diffusion_init', ...Array<string>(inferSteps - 1).fill('diffusion_posterior'), 'unmask']);
          const sizes = Array.from(numel.subarray(i * (inferSteps + 1), (i + 1) * (inferSteps + 1)));
          expect(sizes.slice(0, inferSteps)).toEqual(Array<number>(inferSteps).fill(B * N * K));
          expect(call.uniformsBefore - call.uniformsAfter).toBe(inferSteps * B * N * K);
          // outputs
          expectClose(call.probs, tensor(f, `iter${i}_pred`).data, { atol: 1e-5, rtol: 0, what: `${what} pred`, shape: [B, N, K] });
          const conf = tensor(f, `iter${i}_confidence`).data as Float32Array;
          expect(Array.from(snap.scores, (v) => v === Number.NEGATIVE_INFINITY)).toEqual(Array.from(conf, (v) => v === Number.NEGATIVE_INFINITY));
          const finite = (a: ArrayLike<number>) => Array.from(a, (v) => (Number.isFinite(v) ? v : 0));
          expectClose(finite(snap.scores), finite(conf), { atol: 1e-5, rtol: 0, what: `${what} confidence`, shape: [B, N] });
          const chosen = tensor(f, `iter${i}_chosen`);
          const k = required(chosen.shape[1], 'tokens chosen per sample');
          expect(sizes[inferSteps]).toBe(B * k * K);
          for (let b = 0; b < B; b++)
            expect(Array.from(required(snap.chosen[b], 'chosen tokens'))).toEqual(Array.from(chosen.data.subarray(b * k, (b + 1) * k)));
          if (i + 1 < iterations) {
            expect(Array.from(snap.mask.data)).toEqual(Array.from(tensor(f, `iter${i + 1}_mask_before`).data));
            expect(Array.from(snap.bits.data)).toEqual(Array.from(tensor(f, `iter${i + 1}_seq_before`).data));
          }
        }
        expect(Array.from(result.codes.data)).toEqual(Array.from(tensor(f, 'final_seq').data));
        expect(rng.uniformsLeft).toBe(0);
        expect(rng.gumbelsLeft).toBe(0);
      } finally {
        await head.dispose();
        await features.dispose();
      }
    },
  );

  it.each(['onnx-cpu', 'tfjs-wasm'])('decodes final_seq with the tiny B-AE to pipeline_image (%s)', async (device) => {
    const engine = await resolveEngine({ purpose: 'inference', device });
    const bae = await loadFixture('bae.safetensors');
    const baeWeights = (await loadFixture('tiny_bae_weights.safetensors')).tensors;
    const hparams = ((await loadJsonFixture('tiny_bae_config.json')) as { hparams: Record<string, unknown> }).hparams;
    const tokenizer = await BaeTokenizer.create(engine, configFromHparams(hparams), baeWeights);
    try {
      const finalSeq = tensor(replay.tensors, 'final_seq') as CpuTensor<'float32'>;
      // the generated codes of the replay above when it ran, else the official ones (same bits when it passed)
      const generated = results.get(device)?.codes ?? finalSeq;
      expect(Array.from(generated.data)).toEqual(Array.from(finalSeq.data));
      const image = await tokenizer.decode(generated);
      const expected = tensor(bae.tensors as Tensors, 'pipeline_image');
      expect(image.shape).toEqual(expected.shape);
      expectClose(image.data, expected.data, { atol: 5e-4, rtol: 0, what: `${device} pipeline_image`, shape: expected.shape });
    } finally {
      await tokenizer.dispose();
    }
  });
});
