/**
 * Consumer test (packages must work when installed from their packed tarballs into an unrelated
 * project). Packs the public library packages with `npm pack`, installs the tarballs into a fresh project outside
 * the workspace, and runs plain Node ESM scripts there: one hashes images with the tokenizer and drives the sampler
 * with its own (third-party) predictor; one loads the bundled model directory with @bigr/pipeline (the engine found
 * through core's optional peer dependency, never imported by the script), generates 4 images with per-image seeds,
 * regenerates one alone, hashes and searches, and evaluates the images with @bigr/eval's packaged classifier.
 * Needs the packages built (the nx `test` target of this package depends on `^build`).
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { required } from '@bigr/core';

const repo = required(process.env['BIGR_REPO_ROOT'], 'BIGR_REPO_ROOT (set by the jest setup)');
const PACKAGES = ['core', 'torch', 'tokenizer', 'backbone', 'transcoder', 'sampler', 'eval', 'pipeline', 'engine-onnx'];
const MODEL = join(repo, 'apps', 'cli', 'models', 'fashion-mnist');

const CONSUMER_SCRIPT = `
import { CpuTensor, createRng, resolveEngine } from '@bigr/core';
import '@bigr/engine-onnx';
import { BaeTokenizer, baePreset, initBaeParameters, HashIndex } from '@bigr/tokenizer';
import { generate } from '@bigr/sampler';

const engine = await resolveEngine({ purpose: 'inference' });
const config = baePreset('official-tiny');
const tokenizer = await BaeTokenizer.create(engine, config, initBaeParameters(config, createRng(0)));
const rng = createRng(1);
const images = new CpuTensor(Float32Array.from({ length: 3 * 3 * 32 * 32 }, () => rng.uniform()), [3, 3, 32, 32]);
const packed = await tokenizer.hash(images);
const index = new HashIndex(16, 16);
index.add(packed);
const hit = index.search(packed.bytes.subarray(0, packed.bytes.length / 3), 1);

// A third party's predictor: every bit is 1 with probability 0.9.
const predictor = {
  tokens: 16, bitsPerToken: 16, nullClass: 10,
  async predict(request) { return new CpuTensor(new Float32Array(request.bits.size).fill(0.9), request.bits.shape); },
};
const result = await generate({
  predictor, condition: { kind: 'class', labels: Int32Array.of(1, 2) }, rng: createRng(2), tokenizer, iterations: 4, cfgScale: 1,
});
let ones = 0;
for (const b of result.codes.data) ones += b;
console.log(JSON.stringify({
  engine: engine.name, packedBytes: packed.bytes.length, nearest: Array.from(hit.ids), distance: Array.from(hit.distances),
  codes: result.codes.shape, images: result.images.shape, ones,
}));
`;

const PIPELINE_SCRIPT = `
import { BigrPipeline, TokenizerPipeline } from '@bigr/pipeline';
import { argmaxRows, bundledFashionClassifierDir, createFashionFeatureExtractor, inceptionScore, loadFashionClassifier, toUint8Nhwc } from '@bigr/eval';
import { CpuTensor } from '@bigr/core';

const model = process.argv[2];
const fast = { iterations: 4, diffusionSteps: 10 };
const bigr = await BigrPipeline.load(model);
const batch = await bigr.generate({ classes: ['sneaker', 'bag', 'trouser', 'dress'], seeds: [101, 102, 103, 104], ...fast });
const alone = await bigr.generate({ classes: 'trouser', seeds: [103], ...fast });
const per = alone.codes.data.length;
const sameAlone = alone.codes.data.every((b, i) => b === batch.codes.data[2 * per + i]);

const tok = await TokenizerPipeline.load(model, { engine: bigr.engine });
const index = await tok.index(batch.images);
const hits = await tok.search(index, batch.images, 1);

const classifier = await loadFashionClassifier(bundledFashionClassifierDir());
const extractor = await createFashionFeatureExtractor(bigr.engine, classifier.params, { config: classifier.config });
const signed = new CpuTensor(Float32Array.from(batch.images.data, (v) => 2 * v - 1), batch.images.shape);
const features = await extractor.extract(toUint8Nhwc(signed));
const is = inceptionScore(features.logits, { numSplits: 1 });
console.log(JSON.stringify({
  engine: bigr.engine.name, images: batch.images.shape, seeds: batch.seeds, labels: Array.from(batch.labels), sameAlone,
  nearest: hits.map((h) => h.ids[0]), distances: hits.map((h) => h.distances[0]), predicted: Array.from(argmaxRows(features.logits.data, 10)),
  inceptionScore: is.score, weightsHash: extractor.weightsHash,
}));
await extractor.dispose();
await tok.dispose();
await bigr.dispose();
`;

describe('installing the packed packages into an unrelated project', () => {
  const dir = mkdtempSync(join(tmpdir(), 'bigr-consumer-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('hashes with @bigr/tokenizer and samples with @bigr/sampler from tarballs', () => {
    for (const p of PACKAGES) {
      if (!existsSync(join(repo, 'packages', p, 'dist', 'index.js'))) throw new Error(`packages/${p} is not built; run \`npm run build\` first.`);
    }
    const tarballs = join(dir, 'tarballs');
    execFileSync('mkdir', ['-p', tarballs]);
    for (const p of PACKAGES) execFileSync('npm', ['pack', '--silent', '--pack-destination', tarballs], { cwd: join(repo, 'packages', p), stdio: 'pipe' });
    const files = readdirSync(tarballs).filter((f) => f.endsWith('.tgz'));
    expect(files).toHaveLength(PACKAGES.length);
    const project = join(dir, 'project');
    execFileSync('mkdir', ['-p', project]);
    writeFileSync(
      join(project, 'package.json'),
      JSON.stringify({
        name: 'consumer',
        private: true,
        type: 'module',
        dependencies: Object.fromEntries(files.map((f) => [f.replace(/^bigr-(.*)-\d+\.\d+\.\d+\.tgz$/, '@bigr/$1'), `file:${join(tarballs, f)}`])),
      }),
    );
    execFileSync('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', '--loglevel=error'], {
      cwd: project,
      stdio: 'pipe',
      env: { ...process.env, ONNXRUNTIME_NODE_INSTALL: 'skip', npm_config_workspaces: 'false' },
      timeout: 300_000,
    });
    // The tarballs carry only dist + README: no TypeScript sources, no tests.
    expect(existsSync(join(project, 'node_modules/@bigr/sampler/dist/index.js'))).toBe(true);
    expect(existsSync(join(project, 'node_modules/@bigr/sampler/src'))).toBe(false);
    writeFileSync(join(project, 'consumer.mjs'), CONSUMER_SCRIPT);
    const out = execFileSync('node', ['consumer.mjs'], { cwd: project, encoding: 'utf8', timeout: 120_000 });
    const r = JSON.parse(required(out.trim().split('\n').at(-1), 'last line of the consumer')) as {
      engine: string;
      packedBytes: number;
      distance: number[];
      codes: number[];
      images: number[];
      ones: number;
    };
    expect(r.engine).toBe('onnx-cpu');
    expect(r.packedBytes).toBe(3 * 16 * 2);
    expect(r.distance[0]).toBe(0);
    expect(r.codes).toEqual([2, 16, 16]);
    expect(r.images).toEqual([2, 3, 32, 32]);
    // Bernoulli(0.9) commits: about 90% ones out of 512 bits.
    expect(r.ones).toBeGreaterThan(420);
    expect(r.ones).toBeLessThan(500);

    // Every tarball carries LICENSE and README; @bigr/eval its classifier weights (and no cache).
    for (const p of PACKAGES) {
      expect(existsSync(join(project, 'node_modules/@bigr', p, 'LICENSE'))).toBe(true);
      expect(existsSync(join(project, 'node_modules/@bigr', p, 'README.md'))).toBe(true);
    }
    expect(existsSync(join(project, 'node_modules/@bigr/eval/weights/fashion-classifier/model.safetensors'))).toBe(true);
    expect(existsSync(join(project, 'node_modules/@bigr/eval/weights/fashion-classifier/cache'))).toBe(false);

    writeFileSync(join(project, 'pipeline.mjs'), PIPELINE_SCRIPT);
    const out2 = execFileSync('node', ['pipeline.mjs', MODEL], { cwd: project, encoding: 'utf8', timeout: 300_000 });
    const p = JSON.parse(required(out2.trim().split('\n').at(-1), 'last line of the consumer')) as {
      engine: string;
      images: number[];
      seeds: number[];
      labels: number[];
      sameAlone: boolean;
      nearest: number[];
      distances: number[];
      predicted: number[];
      inceptionScore: number;
      weightsHash: string;
    };
    expect(p.engine).toBe('onnx-cpu');
    expect(p.images).toEqual([4, 1, 28, 28]);
    expect(p.seeds).toEqual([101, 102, 103, 104]);
    expect(p.labels).toEqual([7, 8, 1, 3]);
    expect(p.sameAlone).toBe(true);
    expect(p.nearest).toEqual([0, 1, 2, 3]);
    expect(p.distances).toEqual([0, 0, 0, 0]);
    expect(p.predicted).toHaveLength(4);
    expect(p.inceptionScore).toBeGreaterThanOrEqual(1);
    expect(p.inceptionScore).toBeLessThanOrEqual(4);
    expect(p.weightsHash).toMatch(/^[0-9a-f]{64}$/);
  }, 900_000);
});
