import { at, CpuTensor, getOrThrow, packBits, type BinaryTokenizer, type Rng } from '@bigr/core';
import { configFromHparams } from './config.js';
import { toUint8Pixels } from './imageIo.js';
import { BaeTokenizer } from './tokenizerModel.js';
import { readFixture, readFixtureJson } from './test/fixtures.js';
import { onnxEngine, tfjsEngine } from './test/engines.js';
import { maxAbsDiff } from './test/reference.js';

const fx = readFixture('bae.safetensors');
const weights = readFixture('tiny_bae_weights.safetensors');
const config = configFromHparams(readFixtureJson<{ hparams: Record<string, unknown> }>('tiny_bae_config.json').hparams);
const image = fx.get('image') as unknown as CpuTensor<'float32'>;

function tensor(name: string): CpuTensor {
  return getOrThrow(fx, name, 'fixture tensor');
}

/** Latent (B, K, h, w) → tokens (B, N, K). */
function latentToTokens(latent: Float32Array, b: number, k: number, n: number): number[] {
  const out: number[] = new Array(b * n * k);
  for (let i = 0; i < b; i++) for (let j = 0; j < k; j++) for (let t = 0; t < n; t++) out[(i * n + t) * k + j] = at(latent, (i * k + j) * n + t, 'latent bit');
  return out;
}

/** An Rng that hands out the fixture's recorded uniforms. */
function replay(u: Float32Array): Rng {
  let i = 0;
  return {
    uniformsF32: (n: number) => {
      const start = i;
      i += n;
      return u.slice(start, i);
    },
  } as unknown as Rng;
}

for (const engineName of ['tfjs', 'onnx'] as const) {
  describe(`BaeTokenizer on ${engineName} (official tiny weights)`, () => {
    let tok: BaeTokenizer;
    beforeAll(async () => {
      const engine = engineName === 'tfjs' ? await tfjsEngine() : await onnxEngine();
      // the raw released layout (ae.* keys next to disc.*) is accepted
      const raw = new Map([...weights].map(([k, v]) => [`ae.${k}`, v]));
      raw.set('disc.main.0.weight', new CpuTensor(new Float32Array(4), [4]));
      tok = await BaeTokenizer.create(engine, config, raw, { maxBatch: 1 });
    });
    afterAll(async () => {
      await tok.dispose();
    });

    it('implements BinaryTokenizer', () => {
      const t: BinaryTokenizer = tok;
      expect([t.bitsPerToken, t.grid, t.imageShape]).toEqual([16, [4, 4], [3, 32, 32]]);
    });

    it('threshold codes equal tokens_det, Bernoulli codes replay code_bern, probabilities are returned', async () => {
      const det = await tok.encode(image, { mode: 'threshold' });
      expect(det.bits.shape).toEqual([2, 16, 16]);
      expect(Array.from(det.bits.data)).toEqual(Array.from(tensor('tokens_det').data));
      expect(maxAbsDiff(det.probabilities.data, latentToTokens(tensor('code_prob').data as Float32Array, 2, 16, 16))).toBeLessThan(1e-5);
      const bern = await tok.encode(image, { mode: 'bernoulli', rng: replay(tensor('code_bern_u').data as Float32Array) });
      expect(Array.from(bern.bits.data)).toEqual(latentToTokens(tensor('code_bern').data as Float32Array, 2, 16, 16));
      await expect(tok.encode(image, { mode: 'bernoulli' })).rejects.toThrow(/needs an Rng/);
    });

    it('decode(tokens_det) = recon_det and the saved pixels equal recon_uint8', async () => {
      const bits = new CpuTensor<'uint8'>(Uint8Array.from(tensor('tokens_det').data), [2, 16, 16]);
      const recon = await tok.decode(bits);
      expect(recon.shape).toEqual([2, 3, 32, 32]);
      expect(maxAbsDiff(recon.data, tensor('recon_det').data as Float32Array)).toBeLessThan(5e-4);
      // within one level of recon_uint8 (float rounding at .5 boundaries may flip a pixel)
      const u8 = toUint8Pixels(recon).data;
      const ref = tensor('recon_uint8').data as Uint8Array;
      let off = 0;
      expect(u8).toHaveLength(ref.length);
      for (const [j, r] of ref.entries()) {
        const v = at(u8, j, 'pixel');
        expect(Math.abs(v - r)).toBeLessThanOrEqual(1);
        if (v !== r) off++;
      }
      expect(off).toBeLessThanOrEqual(2);
      const again = await tok.reconstruct(image);
      expect(maxAbsDiff(again.data, recon.data)).toBe(0);
    });

    it('hash(image) = packed threshold codes, deterministic', async () => {
      const h = await tok.hash(image);
      expect([h.batch, h.tokens, h.bitsPerToken, h.bytes.length]).toEqual([2, 16, 16, 2 * 16 * 2]);
      const ref = packBits(new CpuTensor<'uint8'>(Uint8Array.from(tensor('tokens_det').data), [2, 16, 16]));
      expect(Array.from(h.bytes)).toEqual(Array.from(ref.bytes));
    });

    it('names the expected shapes on bad input', async () => {
      await expect(tok.encode(new CpuTensor<'float32'>(new Float32Array(3 * 28 * 28), [1, 3, 28, 28]), { mode: 'threshold' })).rejects.toThrow(
        /\[1, 3, 28, 28\] but float32 \[B, 3, 32, 32\]/,
      );
      await expect(tok.decode(new CpuTensor<'uint8'>(new Uint8Array(16 * 8), [1, 8, 16]))).rejects.toThrow(/\[1, 8, 16\] but \[B, 16, 16\]/);
    });
  });
}

describe('model directories', () => {
  it('saveBae/loadBae round-trip, and the fixture hparams at the top level load too', async () => {
    const { mkdtemp, rm, writeFile, copyFile } = await import('node:fs/promises');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const { saveBae, loadBae } = await import('./modelFiles.js');
    const { fixtureDir } = await import('./test/fixtures.js');
    const dir = await mkdtemp(join(tmpdir(), 'bigr-bae-dir-'));
    try {
      await saveBae(join(dir, 'a'), config, weights);
      const back = await loadBae(join(dir, 'a'));
      expect(back.config).toEqual(config);
      expect(Array.from(getOrThrow(back.parameters, 'quantize.embed.weight', 'loaded parameter').data)).toEqual(
        Array.from(getOrThrow(weights, 'quantize.embed.weight', 'fixture weight').data),
      );
      // official layout: hparams at the top level of config.json
      const { mkdir } = await import('node:fs/promises');
      await mkdir(join(dir, 'b'));
      await copyFile(join(fixtureDir(), 'tiny_bae_config.json'), join(dir, 'b', 'config.json'));
      const hp = JSON.parse(await (await import('node:fs/promises')).readFile(join(dir, 'b', 'config.json'), 'utf8')).hparams;
      await writeFile(join(dir, 'b', 'config.json'), JSON.stringify(hp));
      await copyFile(join(fixtureDir(), 'tiny_bae_weights.safetensors'), join(dir, 'b', 'model.safetensors'));
      expect((await loadBae(join(dir, 'b'))).config).toEqual(config);
      await writeFile(join(dir, 'b', 'config.json'), JSON.stringify({ kind: 'bigr-backbone' }));
      await expect(loadBae(join(dir, 'b'))).rejects.toThrow(/not a B-AE/);
      // a released-style torch checkpoint: ae.* next to disc.* (read without Python)
      const { writeTorchStateDict } = await import('@bigr/torch');
      const { loadReleasedBae } = await import('./modelFiles.js');
      const sd = new Map<string, CpuTensor>([...weights].map(([k, v]) => [`ae.${k}`, v]));
      sd.set('disc.main.0.weight', new CpuTensor<'float32'>(new Float32Array(8), [8]));
      await writeTorchStateDict(join(dir, 'binaryae_ema_tiny.th'), sd);
      const released = await loadReleasedBae(join(dir, 'binaryae_ema_tiny.th'), config);
      expect([...released.parameters.keys()].every((k) => !k.startsWith('ae.') && !k.startsWith('disc.'))).toBe(true);
      expect(Array.from(getOrThrow(released.parameters, 'generator.blocks.14.weight', 'loaded parameter').data)).toEqual(
        Array.from(getOrThrow(weights, 'generator.blocks.14.weight', 'fixture weight').data),
      );
      await expect(loadReleasedBae(join(dir, 'binaryae_ema_tiny.th'))).rejects.toThrow(/missing .* parameter/);
      await writeFile(join(dir, 'b', 'config.json'), JSON.stringify({ ...hp, codebook_size: 20 }));
      await expect(loadBae(join(dir, 'b'))).rejects.toThrow(/quantize\.proj\.0\.weight has shape \[16, 32, 1, 1\] but this config needs \[20, 32, 1, 1\]/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
