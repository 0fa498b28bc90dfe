import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CpuTensor, getOrThrow, required, type NamedTensors, type Tensor } from '@bigr/core';
import { baeParameterShapes } from '@bigr/tokenizer';
import { readBigrModel } from '../bigrModelDir.js';
import { transcoderConfigOf } from '../bigrHead.js';
import { readTokenizerModel } from '../tokenizerModelDir.js';
import { importOfficial } from '../import/importOfficial.js';
import { openCheckpoint } from '../import/checkpointSource.js';
import { tinyBaeStateDict, tinyBigrStateDict, writeBaeTh, writeBigrPt } from '../import/test/tinyCheckpoints.js';
import { BIGR_CONFIG_ARG, exportPytorch, PYTORCH_BAE_FILE, PYTORCH_BIGR_FILE, UNUSED_BAE_FILL } from './pytorchExport.js';

const here = dirname(fileURLToPath(import.meta.url));
/** The bundled Fashion-MNIST model of the CLI (read only). */
const MODEL = join(here, '..', '..', '..', '..', 'apps', 'cli', 'models', 'fashion-mnist');

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'bigr-export-'));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

const bytesOf = (t: Tensor): Buffer => Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength);
const sha = (t: Tensor): string => createHash('sha256').update(bytesOf(t)).digest('hex');

/**
 * Same names, dtypes, shapes and bytes. The scheduler buffers are recomputed on export (a model directory does not
 * store them); `cumbeta` of torch's float32 recursion may differ in the last bit, so those are compared within the
 * importer's tolerance (1e-6).
 */
function expectSameTensors(a: NamedTensors, b: NamedTensors): void {
  expect([...a.keys()].sort()).toEqual([...b.keys()].sort());
  for (const [name, t] of a) {
    const u = getOrThrow(b, name, 'tensor');
    expect([name, u.dtype, u.shape]).toEqual([name, t.dtype, t.shape]);
    if (name.startsWith('diffusion_processor.scheduler.')) {
      let worst = 0;
      for (let i = 0; i < t.size; i++) worst = Math.max(worst, Math.abs(Number(t.data[i]) - Number(u.data[i])));
      expect([name, worst <= 1e-6]).toEqual([name, true]);
    } else expect([name, bytesOf(u).equals(bytesOf(t))]).toEqual([name, true]);
  }
}

describe('bigr export --format pytorch → bigr import round trip', () => {
  it('gives back the bundled model directory bit for bit (weights, architecture, class names, padding)', async () => {
    const out = join(dir, 'pt');
    const report = await exportPytorch(MODEL, out);
    expect(report.files).toEqual([join(out, PYTORCH_BIGR_FILE), join(out, PYTORCH_BAE_FILE)]);
    const back = join(dir, 'imported');
    const imported = await importOfficial({ bigr: join(out, PYTORCH_BIGR_FILE), bae: join(out, PYTORCH_BAE_FILE), out: back });
    const bigrReport = required(imported.bigr, 'report on the BiGR checkpoint');
    expect(bigrReport.source.entry).toBe('ema');
    expect(bigrReport.args?.[BIGR_CONFIG_ARG]).toBeDefined();

    const a = await readBigrModel(MODEL);
    const b = await readBigrModel(back);
    expectSameTensors(a.weights, b.weights);
    expect(b.config.backbone).toEqual(a.config.backbone);
    expect(transcoderConfigOf(b.config, 'test')).toEqual(transcoderConfigOf(a.config, 'test'));
    expect(b.config.classNames).toEqual(a.config.classNames);
    const ta = await readTokenizerModel(join(MODEL, 'tokenizer'));
    const tb = await readTokenizerModel(join(back, 'tokenizer'));
    expectSameTensors(ta.weights, tb.weights);
    expect(tb.config.bae).toEqual(ta.config.bae);
    expect(tb.config.pad).toBe(ta.config.pad);
  });

  it('writes every key of the official state dict (strict load_state_dict): import of the official-tiny layout, then export', async () => {
    const pt = join(dir, 'tiny.pt');
    const th = join(dir, 'tiny.th');
    const official = await tinyBigrStateDict();
    await writeBigrPt(pt, official);
    const officialBae = await tinyBaeStateDict();
    await writeBaeTh(th, officialBae);
    const model = join(dir, 'tiny-model');
    await importOfficial({ bigr: pt, bae: th, out: model, headDim: 16 });
    const out = join(dir, 'tiny-export');
    await exportPytorch(model, out);
    const ours = await openCheckpoint(join(out, PYTORCH_BIGR_FILE), 'exported', 'training-checkpoint');
    expect(ours.entry).toBe('ema');
    expect([...ours.shapes.keys()].sort()).toEqual([...official.keys()].sort());
    for (const [name, t] of official) expect([name, ours.shapes.get(name)]).toEqual([name, t.shape]);
    // Same tensor values as the official file (the duplicate denoiser and the scheduler buffers included).
    expectSameTensors(official, await ours.read([...official.keys()]));
    // binaryae.th: exactly the keys and shapes of the official BinaryAutoEncoder state dict (what the official
    // load_pretrain loads with a strict load_state_dict after stripping `ae.`), the used tensors with the official
    // values, and the unused ones (ResBlock conv_out with in = out, generator.logsigma), which a model directory does not
    // keep, as zeros.
    const bae = await openCheckpoint(join(out, PYTORCH_BAE_FILE), 'exported', 'root');
    expect([...bae.shapes.keys()].sort()).toEqual([...officialBae.keys()].map((k) => `ae.${k}`).sort());
    for (const [name, t] of officialBae) expect([name, bae.shapes.get(`ae.${name}`)]).toEqual([name, t.shape]);
    const exportedBae = await bae.read([...bae.shapes.keys()]);
    const usedBae = (await readTokenizerModel(join(model, 'tokenizer'))).weights;
    const unused = [...officialBae.keys()].filter((k) => !usedBae.has(k));
    expect(unused.length).toBe(20); // conv_out (weight, bias) of the 8 ResBlocks with in = out, and the 4 logsigma tensors
    expect(unused.every((k) => /\.conv_out\.|^generator\.logsigma\./.test(k))).toBe(true);
    for (const [name, t] of officialBae) {
      const got = getOrThrow(exportedBae, `ae.${name}`, 'exported B-AE tensor');
      if (usedBae.has(name)) expect([name, bytesOf(got).equals(bytesOf(t))]).toEqual([name, true]);
      else expect([name, Array.from(got.data).every((v) => v === UNUSED_BAE_FILL)]).toEqual([name, true]);
    }
    // Importing the export again gives the same directory as importing the original.
    const again = join(dir, 'tiny-again');
    await importOfficial({ bigr: join(out, PYTORCH_BIGR_FILE), bae: join(out, PYTORCH_BAE_FILE), out: again });
    expectSameTensors((await readBigrModel(model)).weights, (await readBigrModel(again)).weights);
    expect((await readBigrModel(again)).config.backbone.heads).toBe((await readBigrModel(model)).config.backbone.heads);
  });
});

/** A Python interpreter that imports torch: $BIGR_PYTHON, Debian's /usr/bin/python3, then python3 on PATH. */
function pythonWithTorch(): string | null {
  for (const py of [process.env['BIGR_PYTHON'], '/usr/bin/python3', 'python3']) {
    if (!py) continue;
    const r = spawnSync(py, ['-c', 'import torch'], { stdio: 'ignore', timeout: 120_000 });
    if (r.status === 0) return py;
  }
  return null;
}

const PYTHON = pythonWithTorch();
const describeTorch = PYTHON ? describe : describe.skip;
if (!PYTHON) {
  // jest prints this next to the skipped suite; install with `apt-get install python3-torch libopenblas0-pthread`.
  process.stderr.write(
    'pytorchExport.test: SKIPPED the torch.load test: no Python with torch (tried $BIGR_PYTHON, /usr/bin/python3, python3). Install python3-torch.\n',
  );
}

const LOAD_SCRIPT = `
import hashlib, json, sys, torch
out = {}
for path in sys.argv[1:]:
    ckpt = torch.load(path, map_location='cpu')
    entry = {'keys': sorted(ckpt.keys()) if isinstance(ckpt, dict) else None}
    sd = ckpt['ema'] if 'ema' in ckpt else ckpt
    entry['tensors'] = {k: [str(v.dtype), list(v.shape), hashlib.sha256(v.contiguous().numpy().tobytes()).hexdigest()] for k, v in sd.items()}
    if 'args' in ckpt:
        entry['args'] = {k: getattr(ckpt['args'], k) for k in vars(ckpt['args'])}
        a, b = sd['denoise_mlp.x_embedder.weight'], sd['diffusion_processor._denoise_fn.x_embedder.weight']
        entry['sharedStorage'] = a.storage().data_ptr() == b.storage().data_ptr()
    out[path] = entry
print(json.dumps(out))
`;

describeTorch('torch.load of our export (Debian python3-torch)', () => {
  it('loads bigr.pt and binaryae.th with every tensor equal to the model directory', async () => {
    const out = join(dir, 'for-torch');
    const { files } = await exportPytorch(MODEL, out);
    const script = join(dir, 'load.py');
    await writeFile(script, LOAD_SCRIPT);
    const text = execFileSync(required(PYTHON, 'python3 with torch'), [script, ...files], { encoding: 'utf8', timeout: 300_000, maxBuffer: 64 * 1024 * 1024 });
    const loaded = JSON.parse(text) as Record<
      string,
      { keys: string[] | null; tensors: Record<string, [string, number[], string]>; args?: Record<string, unknown>; sharedStorage?: boolean }
    >;
    const bigr = required(loaded[join(out, PYTORCH_BIGR_FILE)], `torch.load of ${PYTORCH_BIGR_FILE}`);
    const bae = required(loaded[join(out, PYTORCH_BAE_FILE)], `torch.load of ${PYTORCH_BAE_FILE}`);
    expect(bigr.keys).toEqual(['args', 'ema']);
    expect(bigr.sharedStorage).toBe(true);
    const args = required(bigr.args, 'args of bigr.pt');
    expect(args['num_classes']).toBe(10);
    expect(args['codebook_size']).toBe(16);
    expect(typeof args[BIGR_CONFIG_ARG]).toBe('string');

    const { config, weights } = await readBigrModel(MODEL);
    const transcoder = transcoderConfigOf(config, 'test');
    const prefix = transcoder.prefix ?? 'denoise_mlp';
    let compared = 0;
    for (const [name, t] of weights) {
      const expected: [string, number[], string] = ['torch.float32', [...t.shape], sha(t)];
      expect([name, bigr.tensors[name]]).toEqual([name, expected]);
      if (name.startsWith(`${prefix}.`))
        expect([name, bigr.tensors[`diffusion_processor._denoise_fn.${name.slice(prefix.length + 1)}`]]).toEqual([name, expected]);
      compared++;
    }
    expect(compared).toBe(weights.size);
    for (const k of ['k_final', 'b_final', 'beta', 'cumbeta'])
      expect(required(bigr.tensors[`diffusion_processor.scheduler.${k}`], k)[1]).toEqual([transcoder.timesteps + 1]);

    const tok = await readTokenizerModel(join(MODEL, 'tokenizer'));
    // Every key of the official BinaryAutoEncoder state dict (strict load_state_dict), the unused ones as zeros.
    const official = baeParameterShapes(tok.config.bae, { includeUnused: true });
    expect(Object.keys(bae.tensors).sort()).toEqual([...official.keys()].map((k) => `ae.${k}`).sort());
    for (const [name, t] of tok.weights) expect([name, bae.tensors[`ae.${name}`]]).toEqual([name, ['torch.float32', [...t.shape], sha(t)]]);
    for (const [name, shape] of official) {
      if (tok.weights.has(name)) continue;
      const zeros = new CpuTensor(new Float32Array(shape.reduce((a, b) => a * b, 1)), shape);
      expect([name, bae.tensors[`ae.${name}`]]).toEqual([name, ['torch.float32', shape, sha(zeros)]]);
    }
  }, 600_000);
});
