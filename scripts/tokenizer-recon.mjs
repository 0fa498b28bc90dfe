#!/usr/bin/env node
// Reconstruction quality of a tokenizer on the 10,000 Fashion-MNIST test images: decode(encode_threshold(x)),
// clamped to [0, 1], compared with x on the 28×28 image (the 2-pixel padding the tokenizer sees is cropped off):
// mean L1 in [0, 1] units and PSNR (data range 1, mean over images, as `@bigr/eval`'s psnr). Writes a JSON result and,
// with --png, a grid of 16 test images (top) and their reconstructions (bottom).
//
//   npm run build && node scripts/tokenizer-recon.mjs <tokenizer or model dir> --out result.json [--png grid.png]

// @ts-check
import { writeFileSync } from 'node:fs';
import { CpuTensor, dims4, required, resolveEngine } from '@bigr/core';
import '@bigr/engine-onnx';
import { TokenizerPipeline } from '@bigr/pipeline';
import { encodePng, loadIdxImageSet } from '@bigr/tokenizer';
import { psnr } from '@bigr/eval';

const USAGE = 'usage: node scripts/tokenizer-recon.mjs <tokenizer or model dir> --out result.json [--png grid.png]';
const args = process.argv.slice(2);
const dir = args[0];
if (dir === undefined || dir.startsWith('--')) {
  console.error(USAGE);
  process.exit(1);
}
/** The value after `--k`; exits with the usage when the option or its value is missing. */
const opt = (k) => {
  const i = args.indexOf(`--${k}`);
  const v = i < 0 ? undefined : args[i + 1];
  if (v === undefined) {
    console.error(`--${k} needs a value; ${USAGE}`);
    process.exit(1);
  }
  return v;
};
const engine = await resolveEngine({ purpose: 'inference' });
const tp = await TokenizerPipeline.fromDirectory(dir, engine);
const test = await loadIdxImageSet('/usr/share/datasets/fashion-mnist', 'test', { pad: 2 });
const images = test.images;
const [n] = dims4(images.shape, 'test images');
const S = 32;
const crop = (src, i) => {
  const out = new Float32Array(28 * 28);
  for (let y = 0; y < 28; y++) for (let x = 0; x < 28; x++) out[y * 28 + x] = Math.min(1, Math.max(0, required(src[i * S * S + (y + 2) * S + x + 2], 'pixel')));
  return out;
};
const orig = new Float32Array(n * 784);
const recon = new Float32Array(n * 784);
const t0 = performance.now();
for (let s = 0; s < n; s += 500) {
  const b = Math.min(500, n - s);
  const chunk = /** @type {CpuTensor<'float32'>} */ (new CpuTensor(images.data.subarray(s * S * S, (s + b) * S * S), [b, 1, S, S]));
  const { bits } = await tp.tokenizer.encode(chunk, { mode: 'threshold' });
  const out = await tp.tokenizer.decode(bits);
  for (let i = 0; i < b; i++) {
    orig.set(crop(chunk.data, i), (s + i) * 784);
    recon.set(crop(out.data, i), (s + i) * 784);
  }
}
let l1 = 0;
for (let i = 0; i < orig.length; i++) l1 += Math.abs(required(orig[i], 'pixel') - required(recon[i], 'pixel'));
const p = psnr(new CpuTensor(orig, [n, 28, 28, 1]), new CpuTensor(recon, [n, 28, 28, 1]), { dataRange: 1 });
const result = {
  tokenizer: dir,
  images: n,
  protocol: 'threshold codes; decode clamped to [0,1]; 28×28 crop; L1 mean abs; PSNR per image (range 1) then mean',
  l1: l1 / orig.length,
  psnrDb: p.value,
  seconds: (performance.now() - t0) / 1000,
  command: `node scripts/tokenizer-recon.mjs ${args.join(' ')}`,
};
writeFileSync(opt('out'), `${JSON.stringify(result, null, 1)}\n`);
console.log(JSON.stringify(result));
if (args.includes('--png')) {
  const k = 16;
  const W = k * 28;
  const data = new Uint8Array(W * 56);
  for (let j = 0; j < k; j++)
    for (let y = 0; y < 28; y++)
      for (let x = 0; x < 28; x++) {
        data[y * W + j * 28 + x] = Math.round(required(orig[j * 784 + y * 28 + x], 'pixel') * 255);
        data[(y + 28) * W + j * 28 + x] = Math.round(required(recon[j * 784 + y * 28 + x], 'pixel') * 255);
      }
  writeFileSync(opt('png'), encodePng({ width: W, height: 56, channels: 1, data }));
}
