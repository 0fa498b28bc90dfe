/**
 * Training parity with the official code (docs/fixtures.md, "Training-step fixture"; the style of llm.c's
 * test_gpt2): two official training steps of the tiny transformer with every random draw recorded. On every training
 * engine, our masked-modelling loss (backbone + binary transcoder, XOR target, weighted BCE) fed those draws must give
 * the official loss and every parameter gradient, and the core Trainer (global-norm clipping at 1.0, AdamW with the
 * released weight-decay groups) the official parameters after one and two steps.
 */
import '@bigr/engine-onnx';
import '@bigr/engine-tfjs';
import { AdamW, CpuTensor, Trainer, clipGradNorm, gradNorm, resolveEngine, required, getOrThrow } from '@bigr/core';
import type { Engine, NamedTensors } from '@bigr/core';
import { backboneWeightDecay, maskedModellingLoss, oneHotLabels, presetConfig, type MaskedModellingBatch } from '@bigr/backbone';
import { LOSS_INPUT_TAU, LOSS_INPUT_XT, TranscoderLoss, inferDenoiserSizes } from '@bigr/transcoder';
import { loadFixture, relativeL2 as relL2 } from '@bigr/testing';

type Tensors = ReadonlyMap<string, CpuTensor>;

function get(map: Tensors, name: string): CpuTensor {
  const t = map.get(name);
  if (!t) throw new Error(`fixture tensor ${name} is missing`);
  return t;
}

const f32 = (t: CpuTensor): Float32Array => Float32Array.from(t.data as ArrayLike<number>);

/** The batch of one official step, built from its recorded draws (mask, dropped labels, t, z_t). */
function officialBatch(f: Tensors): MaskedModellingBatch {
  const labels = get(f, 'labels_after_drop').data as Int32Array;
  const t = get(f, 'draw_t').data as Int32Array;
  return {
    batchSize: 4,
    bits: f32(get(f, 'codes')),
    mask: f32(get(f, 'token_mask')),
    maskCount: required((get(f, 'num_masked_tokens').data as Int32Array)[0], 'num_masked_tokens'),
    labels,
    classWeights: oneHotLabels(labels, 11),
    headInputs: {
      [LOSS_INPUT_XT]: new CpuTensor(f32(get(f, 'x_t')), [64, 16]),
      [LOSS_INPUT_TAU]: new CpuTensor(
        Float32Array.from(t, (v) => v - 1),
        [64],
      ),
    },
  };
}

describe('official training steps (train_step.safetensors, train_step2.safetensors)', () => {
  let weights: Tensors;
  let step1: Tensors;
  let step2: Tensors;
  let order: string[];
  let params: NamedTensors;
  let lossOf: (b: MaskedModellingBatch) => ReturnType<ReturnType<typeof maskedModellingLoss>>;
  const optimiser = { lr: 1e-3, betas: [0.9, 0.95] as const, eps: 1e-8 };
  const decay = backboneWeightDecay({ decay: 0.05 });

  beforeAll(async () => {
    weights = (await loadFixture('tiny_transformer_weights.safetensors')).tensors as Tensors;
    const a = await loadFixture('train_step.safetensors');
    step1 = a.tensors as Tensors;
    step2 = (await loadFixture('train_step2.safetensors')).tensors as Tensors;
    order = JSON.parse(required(a.metadata['param_order'], 'metadata entry')) as string[];
    params = new Map(order.map((n) => [n, get(weights, n)]));
    const backbone = presetConfig('BiGR-tiny', { residDropout: 0, ffnDropout: 0 });
    const head = new TranscoderLoss({ ...inferDenoiserSizes(weights as NamedTensors), timesteps: 256 });
    lossOf = maskedModellingLoss(backbone, head);
  });

  it('the fixture lists 48 unique parameters (the shared denoiser once, as denoise_mlp.*)', () => {
    expect(order).toHaveLength(48);
    expect(order.some((n) => n.startsWith('diffusion_processor.'))).toBe(false);
    expect([...params.values()].reduce((s, t) => s + t.size, 0)).toBe(236816);
  });

  it('AdamW with clipping, fed the official gradients, gives the official parameters after both steps (atol 3e-7)', () => {
    const p = new Map(order.map((n) => [n, f32(get(weights, n))]));
    const opt = new AdamW({ betas: optimiser.betas, eps: optimiser.eps, weightDecay: (n) => decay(n, get(weights, n).shape) });
    let worst = 0;
    for (const [f, prefix] of [
      [step1, 'after_step'],
      [step2, 'after_step2'],
    ] as const) {
      const g = new Map(order.map((n) => [n, f32(get(f, `grad.${n}`))]));
      const norm = clipGradNorm(g, 1.0);
      expect(Math.abs(norm - (get(f, 'grad_norm_total').data[0] as number))).toBeLessThan(1e-6);
      opt.step(p, g, optimiser.lr);
      for (const n of order) {
        const want = get(f, `${prefix}.${n}`).data as Float32Array;
        const got = getOrThrow(p, n);
        for (let i = 0; i < want.length; i++) worst = Math.max(worst, Math.abs(required(got[i], 'computed value') - required(want[i], 'expected value')));
      }
    }
    expect(worst).toBeLessThanOrEqual(3e-7);
  });

  describe.each(['onnx-cpu', 'tfjs-wasm', 'tfjs-cpu'])('on %s', (device) => {
    let engine: Engine;
    beforeAll(async () => {
      engine = await resolveEngine({ purpose: 'training', device });
      expect(engine.name).toBe(device);
    });

    it.each([
      ['step 1', 0],
      ['step 2 (at the step-1 weights)', 1],
    ] as const)('%s: loss to 1e-5 relative, every gradient to 1e-5 relative L2, the gradient norm', async (_label, which) => {
      const f = which === 0 ? step1 : step2;
      const start = which === 0 ? params : new Map(order.map((n) => [n, get(step1, `after_step.${n}`)]));
      const trainable = required(await engine.createTrainable?.(start), 'trainable of a training engine');
      try {
        const r = await trainable.gradients(lossOf(officialBatch(f)), {
          uniformsF32: () => {
            throw new Error('no draws expected');
          },
        } as never);
        const want = required((get(f, 'loss').data as Float32Array)[0], 'recorded loss');
        expect(Math.abs(r.loss - want) / want).toBeLessThan(1e-5);
        const errors = order.map((n) => [n, relL2(getOrThrow(r.grads, n), get(f, `grad.${n}`).data as Float32Array)] as const);
        expect(errors.filter(([, e]) => !(e <= 1e-5))).toEqual([]);
        const norm = gradNorm(new Map(order.map((n) => [n, getOrThrow(r.grads, n)])));
        expect(Math.abs(norm - (get(f, 'grad_norm_total').data[0] as number)) / norm).toBeLessThan(1e-5);
        // Label rows that no sample used get exactly zero gradient, as in the official run.
        const table = getOrThrow(r.grads, 'cls_embedding.embedding_table.weight');
        const officialTable = get(f, 'grad.cls_embedding.embedding_table.weight').data as Float32Array;
        for (let i = 0; i < table.length; i++) if (officialTable[i] === 0) expect(table[i]).toBe(0);
      } finally {
        trainable.dispose();
      }
    });

    it('the Trainer reproduces the parameters after steps 1 and 2 (atol 3e-7 where |grad| >= 1e-6; the rest within 2·lr)', async () => {
      const batches = [officialBatch(step1), officialBatch(step2)];
      const trainer = await Trainer.create(params, {
        engine,
        batches: (s) => required(batches[s], 'recorded batch'),
        loss: (b) => lossOf(b),
        seed: 0,
        learningRate: optimiser.lr,
        betas: optimiser.betas,
        eps: optimiser.eps,
        weightDecay: decay,
        gradClipNorm: 1.0,
        emaDecay: null,
      });
      try {
        for (const [f, prefix, steps] of [
          [step1, 'after_step', 1],
          [step2, 'after_step2', 2],
        ] as const) {
          await trainer.run({ steps });
          const now = trainer.parameters();
          let worstSensitive = 0;
          let worstRest = 0;
          for (const n of order) {
            const want = get(f, `${prefix}.${n}`).data as Float32Array;
            const got = getOrThrow(now, n).data as Float32Array;
            const g1 = get(step1, `grad.${n}`).data as Float32Array;
            for (let i = 0; i < want.length; i++) {
              const d = Math.abs(required(got[i], 'computed value') - required(want[i], 'expected value'));
              if (Math.abs(required(g1[i], 'step-1 gradient')) >= 1e-6) worstSensitive = Math.max(worstSensitive, d);
              else worstRest = Math.max(worstRest, d);
            }
          }
          expect({ prefix, worstSensitive: worstSensitive <= 3e-7 ? 'ok' : worstSensitive }).toEqual({ prefix, worstSensitive: 'ok' });
          expect(worstRest).toBeLessThanOrEqual(2 * optimiser.lr);
        }
      } finally {
        trainer.dispose();
      }
    });
  });
});
