import { at, CpuTensor, createRng, getOrThrow, required, type GraphDefinition, type NamedTensors, type Ops } from '@bigr/core';
import { discriminator, discriminatorParameterShapes, discriminatorPlan, initDiscriminator } from './discriminator.js';
import { lpipsLinWeights, lpipsLoss, maxPool2x2, vgg16Features, type FeatureNetwork } from './perceptual.js';
import { conv, maxAbsDiff, type Img } from './test/reference.js';
import { tfjsEngine } from './test/engines.js';

/** Runs `fn` on the tfjs engine with float inputs. */
async function run(
  inputs: Record<string, CpuTensor>,
  outputs: string[],
  build: <T>(ops: Ops<T>, x: Readonly<Record<string, T>>) => Record<string, T>,
  params: NamedTensors = new Map(),
): Promise<Record<string, CpuTensor>> {
  const def: GraphDefinition = {
    name: 'perceptual_test',
    inputs: Object.entries(inputs).map(([name, t]) => ({ name, dtype: 'float32' as const, shape: [...t.shape] })),
    outputs,
    build,
  };
  const g = await (await tfjsEngine()).compile(def, params);
  const out = await g.run(inputs);
  await g.dispose();
  return out;
}

function output(outputs: Readonly<Record<string, CpuTensor>>, name: string): CpuTensor {
  return required(outputs[name], `graph output ${name}`);
}

function relu(x: Img): Img {
  return { ...x, data: x.data.map((v) => Math.max(0, v)) };
}

function pool(x: Img): Img {
  const h = Math.floor(x.h / 2);
  const w = Math.floor(x.w / 2);
  const out = new Float64Array(x.c * h * w);
  for (let c = 0; c < x.c; c++)
    for (let y = 0; y < h; y++)
      for (let xx = 0; xx < w; xx++) {
        let m = -Infinity;
        for (let dy = 0; dy < 2; dy++) for (let dx = 0; dx < 2; dx++) m = Math.max(m, at(x.data, (c * x.h + 2 * y + dy) * x.w + 2 * xx + dx, 'pooled input'));
        out[(c * h + y) * w + xx] = m;
      }
  return { c: x.c, h, w, data: out };
}

/** Naive LPIPS over given feature maps (one image each). */
function lpipsRef(f0: Img[], f1: Img[], lins: Float32Array[]): number {
  let total = 0;
  f0.forEach((a, k) => {
    const b = at(f1, k, 'features of the second image');
    const lin = at(lins, k, 'lin weight');
    const hw = a.h * a.w;
    let s = 0;
    for (let i = 0; i < hw; i++) {
      let na = 0;
      let nb = 0;
      for (let c = 0; c < a.c; c++) {
        na += at(a.data, c * hw + i, 'feature') ** 2;
        nb += at(b.data, c * hw + i, 'feature') ** 2;
      }
      na = Math.sqrt(na) + 1e-10;
      nb = Math.sqrt(nb) + 1e-10;
      for (let c = 0; c < a.c; c++) s += at(lin, c, 'lin weight') * (at(a.data, c * hw + i, 'feature') / na - at(b.data, c * hw + i, 'feature') / nb) ** 2;
    }
    total += s / hw;
  });
  return total;
}

describe('perceptual loss building blocks', () => {
  it('maxPool2x2 matches a naive max pool (odd sizes drop the last row/column)', async () => {
    const x = new CpuTensor<'float32'>(createRng(1).normalsF32(2 * 3 * 5 * 7), [2, 3, 5, 7]);
    const out = await run({ x }, ['y'], (ops, i) => ({ y: maxPool2x2(ops, required(i['x'], 'x'), { channels: 3, height: 5, width: 7 }).y }));
    expect(out['y']?.shape).toEqual([2, 3, 2, 3]);
    for (let b = 0; b < 2; b++) {
      const ref = pool({ c: 3, h: 5, w: 7, data: Float64Array.from(x.data.subarray(b * 105, (b + 1) * 105)) });
      expect(maxAbsDiff((output(out, 'y').data as Float32Array).subarray(b * 18, (b + 1) * 18), ref.data)).toBeLessThan(1e-6);
    }
  });

  it('lpipsLoss equals the LPIPS formula (gray input repeated to RGB, scaling layer, batch mean)', async () => {
    const rng = createRng(2);
    const w = rng.normalsF32(6 * 3 * 9);
    const toy: FeatureNetwork = {
      channels: [6, 6],
      features: <T>(ops: Ops<T>, x: T) => {
        const f = ops.relu(ops.conv2d(x, ops.constant(w, [6, 3, 3, 3]), null, { strides: 1, pads: [1, 1, 1, 1] }));
        return [f, ops.square(f)];
      },
    };
    const lins = [Float32Array.from(rng.uniformsF32(6)), Float32Array.from(rng.uniformsF32(6))];
    const loss = lpipsLoss(toy, { linWeights: lins });
    const x = new CpuTensor<'float32'>(rng.uniformsF32(2 * 1 * 6 * 6), [2, 1, 6, 6]);
    const y = new CpuTensor<'float32'>(rng.uniformsF32(2 * 1 * 6 * 6), [2, 1, 6, 6]);
    const out = await run({ x, y }, ['l'], (ops, i) => ({
      l: loss.loss(ops, required(i['x'], 'x'), required(i['y'], 'y'), { channels: 1, height: 6, width: 6 }),
    }));
    const shift = [-0.03, -0.088, -0.188];
    const scale = [0.458, 0.448, 0.45];
    const wMap = new Map([['f.weight', { data: w, shape: [6, 3, 3, 3] }]]);
    let ref = 0;
    for (let b = 0; b < 2; b++) {
      const feats = (t: CpuTensor<'float32'>): Img[] => {
        const img = new Float64Array(3 * 36);
        for (const [c, sh] of shift.entries()) for (let i = 0; i < 36; i++) img[c * 36 + i] = (at(t.data, b * 36 + i, 'pixel') - sh) / at(scale, c, 'scale');
        const f = relu(conv({ c: 3, h: 6, w: 6, data: img }, wMap, 'f', 6, 3, 1, [1, 1, 1, 1]));
        return [f, { ...f, data: f.data.map((v) => v * v) }];
      };
      ref += lpipsRef(feats(x), feats(y), lins) / 2;
    }
    expect(Math.abs(at(output(out, 'l').data, 0, 'loss') - ref)).toBeLessThan(1e-5 * Math.max(1, ref));
    expect(() => lpipsLoss(toy, { linWeights: lins.slice(0, 1) })).toThrow(/1 lin weight vectors for 2 feature layers/);
  });

  it('vgg16Features follows the LPIPS VGG16 slices with official key names (random weights)', async () => {
    const rng = createRng(3);
    const weights = new Map<string, CpuTensor>();
    const convs: [number, number, number, number][] = [
      [1, 0, 3, 64],
      [1, 2, 64, 64],
      [2, 5, 64, 128],
      [2, 7, 128, 128],
      [3, 10, 128, 256],
      [3, 12, 256, 256],
      [3, 14, 256, 256],
      [4, 17, 256, 512],
      [4, 19, 512, 512],
      [4, 21, 512, 512],
      [5, 24, 512, 512],
      [5, 26, 512, 512],
      [5, 28, 512, 512],
    ];
    for (const [s, i, cin, o] of convs) {
      // uniform weights with He variance 2/fan_in (uniforms are much cheaper to draw than 14.7M normals)
      const w = rng.uniformsF32(o * cin * 9);
      const a = Math.sqrt(6 / (cin * 9));
      for (const [j, u] of w.entries()) w[j] = (2 * u - 1) * a;
      weights.set(`perceptual.net.slice${s}.${i}.weight`, new CpuTensor(w, [o, cin, 3, 3]));
      weights.set(
        `perceptual.net.slice${s}.${i}.bias`,
        new CpuTensor(
          rng.uniformsF32(o).map((v) => 0.1 * (v - 0.5)),
          [o],
        ),
      );
    }
    for (const [k, c] of [64, 128, 256, 512, 512].entries()) weights.set(`perceptual.lin${k}.model.1.weight`, new CpuTensor(rng.uniformsF32(c), [1, c, 1, 1]));
    const net = vgg16Features(weights);
    expect(lpipsLinWeights(weights).map((w) => w.length)).toEqual([64, 128, 256, 512, 512]);
    const x = new CpuTensor<'float32'>(rng.normalsF32(3 * 16 * 16), [1, 3, 16, 16]);
    const out = await run({ x }, ['f0', 'f1', 'f2', 'f3', 'f4'], (ops, i) => {
      const f = net.features(ops, required(i['x'], 'x'), { channels: 3, height: 16, width: 16 });
      return Object.fromEntries(f.map((t, k) => [`f${k}`, t]));
    });
    let h: Img = { c: 3, h: 16, w: 16, data: Float64Array.from(x.data) };
    let slice = 1;
    const refs: Img[] = [];
    for (const [s, i, , o] of convs) {
      if (s !== slice) {
        refs.push(h);
        h = pool(h);
        slice = s;
      }
      h = relu(conv(h, weights as never, `perceptual.net.slice${s}.${i}`, o, 3, 1, [1, 1, 1, 1]));
    }
    refs.push(h);
    refs.forEach((r, k) => {
      const got = output(out, `f${k}`);
      expect(got.shape).toEqual([1, r.c, r.h, r.w]);
      const scaleRef = Math.max(...Array.from(r.data, Math.abs), 1);
      expect(maxAbsDiff(got.data as Float32Array, r.data) / scaleRef).toBeLessThan(1e-4);
    });
    expect(() => vgg16Features(new Map())).toThrow(/net\.slice1\.0\.weight is missing/);
  });
});

describe('PatchGAN discriminator (docs/algorithm.md §1.6)', () => {
  it('has the official layout and parameter names', () => {
    const plan = discriminatorPlan({ inChannels: 3, ndf: 64, layers: 3 });
    expect(plan.map((c) => [c.index, c.inChannels, c.outChannels, c.stride, c.bias, c.bn])).toEqual([
      [0, 3, 64, 2, true, null],
      [2, 64, 128, 2, false, 3],
      [5, 128, 256, 2, false, 6],
      [8, 256, 512, 1, false, 9],
      [11, 512, 1, 1, true, null],
    ]);
    const shapes = discriminatorParameterShapes({ inChannels: 3, ndf: 64, layers: 3 });
    expect(shapes.get('disc.main.9.weight')).toEqual([512]);
    expect(shapes.has('disc.main.2.bias')).toBe(false);
    let n = 0;
    for (const s of shapes.values()) n += s.reduce((a, b) => a * b, 1);
    expect(n).toBe(2_765_633); // taming NLayerDiscriminator(3, 64, 3) trainable parameters
  });

  it('forward matches a naive reference with batch-statistics BatchNorm', async () => {
    const cfg = { inChannels: 1, ndf: 4, layers: 2 };
    const params = initDiscriminator(cfg, createRng(4));
    const x = new CpuTensor<'float32'>(createRng(5).uniformsF32(2 * 16 * 16), [2, 1, 16, 16]);
    const out = await run({ x }, ['d'], (ops, i) => ({ d: discriminator(ops, required(i['x'], 'x'), cfg, (n) => ops.param(n)) }), params);
    // naive: per conv for both images, then BN over (batch, h, w)
    let hs: Img[] = [0, 1].map((b) => ({ c: 1, h: 16, w: 16, data: Float64Array.from(x.data.subarray(b * 256, (b + 1) * 256)) }));
    for (const c of discriminatorPlan(cfg)) {
      hs = hs.map((h) => conv(h, params as never, `disc.main.${c.index}`, c.outChannels, 4, c.stride, [1, 1, 1, 1]));
      if (c.bn !== null) {
        const h0 = at(hs, 0, 'activations of image 0');
        const hw = h0.h * h0.w;
        const g = getOrThrow(params, `disc.main.${c.bn}.weight`, 'discriminator parameter').data;
        const bb = getOrThrow(params, `disc.main.${c.bn}.bias`, 'discriminator parameter').data;
        for (let ch = 0; ch < c.outChannels; ch++) {
          const planes = hs.map((h) => h.data.subarray(ch * hw, (ch + 1) * hw));
          let m = 0;
          for (const plane of planes) for (const value of plane) m += value / (2 * hw);
          let v = 0;
          for (const plane of planes) for (const value of plane) v += (value - m) ** 2 / (2 * hw);
          const gamma = at(g, ch, 'gamma');
          const beta = at(bb, ch, 'beta');
          for (const plane of planes) for (const [i, value] of plane.entries()) plane[i] = ((value - m) / Math.sqrt(v + 1e-5)) * gamma + beta;
        }
      }
      if (c.leaky) hs = hs.map((h) => ({ ...h, data: h.data.map((v) => (v > 0 ? v : 0.2 * v)) }));
    }
    const h0 = at(hs, 0, 'activations of image 0');
    const per = h0.data.length;
    const d = output(out, 'd');
    expect(d.shape).toEqual([2, 1, h0.h, h0.w]);
    for (const [b, h] of hs.entries()) expect(maxAbsDiff((d.data as Float32Array).subarray(b * per, (b + 1) * per), h.data)).toBeLessThan(1e-4);
  });
});
