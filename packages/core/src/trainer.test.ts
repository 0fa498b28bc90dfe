import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Engine, GradientResult, LossFunction, TrainableParameters } from './engine.js';
import { AbortError, ConfigError, FormatError } from './errors.js';
import { at, getOrThrow, required } from './invariants.js';
import type { Ops } from './ops.js';
import type { ProgressEvent } from './progress.js';
import type { Rng } from './rng.js';
import { createRng } from './seededRng.js';
import { CpuTensor, type NamedTensors } from './tensor.js';
import { Trainer, loadTrainerCheckpoint, type TrainerOptions } from './trainer.js';

/**
 * A tiny reverse-mode engine for the test: values are flat float64 arrays; only the ops the test losses use
 * (param, constant, scalar, add, sub, mul, square, mean over everything, dropout) are implemented. Shapes are
 * equal or one side is a scalar.
 */
interface Node {
  value: Float64Array;
  grad: Float64Array;
  back: () => void;
  param?: string;
}

class TapeOps implements Ops<Node> {
  readonly engine = 'tape';
  readonly tape: Node[] = [];
  constructor(
    readonly training: boolean,
    private readonly params: Map<string, Float32Array>,
    private readonly rng: Rng,
    readonly leaves: Map<string, Node>,
  ) {}
  #node(value: Float64Array, back: (n: Node) => void): Node {
    const n: Node = { value, grad: new Float64Array(value.length), back: () => back(n) };
    this.tape.push(n);
    return n;
  }
  param(name: string): Node {
    let n = this.leaves.get(name);
    if (!n) {
      const p = getOrThrow(this.params, name, 'parameter');
      n = { value: Float64Array.from(p), grad: new Float64Array(p.length), back: () => undefined, param: name };
      this.leaves.set(name, n);
    }
    return n;
  }
  hasParam(name: string): boolean {
    return this.params.has(name);
  }
  constant(data: Float32Array): Node {
    return this.#node(Float64Array.from(data), () => undefined);
  }
  scalar(v: number): Node {
    return this.#node(Float64Array.of(v), () => undefined);
  }
  #binary(a: Node, b: Node, f: (x: number, y: number) => number, da: (x: number, y: number) => number, db: (x: number, y: number) => number): Node {
    const n = Math.max(a.value.length, b.value.length);
    // A length-1 operand is a scalar broadcast over the other.
    const index = (t: Node, i: number) => (t.value.length === 1 ? 0 : i);
    const read = (t: Node, i: number) => at(t.value, index(t, i), 'operand');
    const out = new Float64Array(n);
    for (let i = 0; i < n; i++) out[i] = f(read(a, i), read(b, i));
    return this.#node(out, (o) => {
      for (const [i, g] of o.grad.entries()) {
        const ia = index(a, i);
        const ib = index(b, i);
        a.grad[ia] = at(a.grad, ia) + g * da(read(a, i), read(b, i));
        b.grad[ib] = at(b.grad, ib) + g * db(read(a, i), read(b, i));
      }
    });
  }
  add(a: Node, b: Node): Node {
    return this.#binary(
      a,
      b,
      (x, y) => x + y,
      () => 1,
      () => 1,
    );
  }
  sub(a: Node, b: Node): Node {
    return this.#binary(
      a,
      b,
      (x, y) => x - y,
      () => 1,
      () => -1,
    );
  }
  mul(a: Node, b: Node): Node {
    return this.#binary(
      a,
      b,
      (x, y) => x * y,
      (_x, y) => y,
      (x) => x,
    );
  }
  square(x: Node): Node {
    return this.mul(x, x);
  }
  mean(x: Node): Node {
    const n = x.value.length;
    return this.#node(Float64Array.of(x.value.reduce((s, v) => s + v, 0) / n), (o) => {
      for (const [i, g] of x.grad.entries()) x.grad[i] = g + at(o.grad, 0, 'mean cotangent') / n;
    });
  }
  dropout(x: Node, rate: number): Node {
    if (!this.training || rate === 0) return x;
    const u = this.rng.uniformsF32(x.value.length);
    const keep = Float64Array.from(u, (v) => (v >= rate ? 1 / (1 - rate) : 0));
    return this.mul(
      x,
      this.#node(keep, () => undefined),
    );
  }
  div(): Node {
    throw new Error('unused');
  }
  neg(): Node {
    throw new Error('unused');
  }
  exp(): Node {
    throw new Error('unused');
  }
  log(): Node {
    throw new Error('unused');
  }
  sqrt(): Node {
    throw new Error('unused');
  }
  rsqrt(): Node {
    throw new Error('unused');
  }
  sigmoid(): Node {
    throw new Error('unused');
  }
  silu(): Node {
    throw new Error('unused');
  }
  tanh(): Node {
    throw new Error('unused');
  }
  relu(): Node {
    throw new Error('unused');
  }
  sin(): Node {
    throw new Error('unused');
  }
  cos(): Node {
    throw new Error('unused');
  }
  sum(): Node {
    throw new Error('unused');
  }
  reshape(x: Node): Node {
    return x;
  }
  transpose(): Node {
    throw new Error('unused');
  }
  concat(): Node {
    throw new Error('unused');
  }
  slice(): Node {
    throw new Error('unused');
  }
  matMul(): Node {
    throw new Error('unused');
  }
  softmax(): Node {
    throw new Error('unused');
  }
  gather(): Node {
    throw new Error('unused');
  }
  constantInt(): Node {
    throw new Error('unused');
  }
  conv2d(): Node {
    throw new Error('unused');
  }
  upsampleNearest2x(): Node {
    throw new Error('unused');
  }
  abs(): Node {
    throw new Error('unused');
  }
  maximum(): Node {
    throw new Error('unused');
  }
  step(): Node {
    throw new Error('unused');
  }
  stopGradient(): Node {
    throw new Error('unused');
  }
  broadcastTo(): Node {
    throw new Error('unused');
  }
  scatterAddRows(): Node {
    throw new Error('unused');
  }
  conv2dInputGrad(): Node {
    throw new Error('unused');
  }
  conv2dWeightGrad(): Node {
    throw new Error('unused');
  }
}

class TapeTrainable implements TrainableParameters {
  readonly names: readonly string[];
  readonly values = new Map<string, Float32Array>();
  readonly shapes = new Map<string, readonly number[]>();
  constructor(params: NamedTensors) {
    for (const [k, v] of params) {
      this.values.set(k, Float32Array.from(v.data as Float32Array));
      this.shapes.set(k, v.shape);
    }
    this.names = [...params.keys()];
  }
  async gradients(loss: LossFunction, rng: Rng): Promise<GradientResult> {
    const ops = new TapeOps(true, this.values, rng, new Map());
    const out = loss(ops);
    out.loss.grad[0] = 1;
    for (const node of [...ops.tape].reverse()) node.back();
    const grads = new Map<string, Float32Array>();
    for (const name of this.names)
      grads.set(name, Float32Array.from(ops.leaves.get(name)?.grad ?? new Float64Array(getOrThrow(this.values, name, 'parameter').length)));
    return { loss: Math.fround(at(out.loss.value, 0, 'loss')), grads, metrics: {} };
  }
  async evaluate(): Promise<Record<string, CpuTensor>> {
    throw new Error('unused');
  }
  assign(values: ReadonlyMap<string, Float32Array>): void {
    for (const [k, v] of values) this.values.set(k, Float32Array.from(v));
  }
  read(): NamedTensors {
    return new Map([...this.values].map(([k, v]) => [k, new CpuTensor(Float32Array.from(v), getOrThrow(this.shapes, k, 'parameter shape'))]));
  }
  dispose(): void {}
}

const tapeEngine: Engine = {
  name: 'tape',
  canTrain: true,
  compile: async () => {
    throw new Error('unused');
  },
  createTrainable: async (p) => new TapeTrainable(p),
};

/** Batch = noisy targets drawn from the Rng; loss = mean((w ⊙ x − y)²) with dropout on the prediction. */
interface Batch {
  x: Float32Array;
  y: Float32Array;
}
const DIM = 6;
const TRUE_W = Float32Array.from({ length: DIM }, (_, i) => i - 2.5);

function options(extra: Partial<TrainerOptions<Batch>> = {}): TrainerOptions<Batch> {
  return {
    engine: tapeEngine,
    seed: 1234,
    learningRate: (step) => 0.05 * Math.min(1, (step + 1) / 3),
    betas: [0.9, 0.95],
    weightDecay: (name) => (name === 'w' ? 0.01 : 0),
    gradClipNorm: 1.0,
    emaDecay: 0.9,
    batches: (_step, rng) => {
      const x = rng.normalsF32(DIM);
      return { x, y: x.map((v, i) => v * at(TRUE_W, i) + 0.01 * rng.normal()) };
    },
    loss:
      (b) =>
      <T>(ops: Ops<T>) => {
        const pred = ops.dropout(ops.mul(ops.param('w'), ops.constant(b.x, [DIM])), 0.1);
        return { loss: ops.mean(ops.square(ops.sub(pred, ops.constant(b.y, [DIM]))), [0], false) };
      },
    ...extra,
  };
}

function initial(): NamedTensors {
  return new Map([
    ['w', new CpuTensor(new Float32Array(DIM), [DIM])],
    ['unused', new CpuTensor(Float32Array.of(1, -2, 3, 4), [2, 2])],
  ]);
}

describe('Trainer', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'bigr-trainer-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('first step equals hand-computed AdamW with decoupled per-parameter weight decay and EMA', async () => {
    const t = await Trainer.create(initial(), options({ learningRate: 0.1, weightDecay: (n) => (n === 'unused' ? 0.5 : 0), gradClipNorm: null }));
    await t.run({ steps: 1 });
    const w = getOrThrow(t.parameters(), 'w').data as Float32Array;
    const u = getOrThrow(t.parameters(), 'unused').data as Float32Array;
    // Step 1: m̂ = g, v̂ = g², update = lr·g/(|g| + eps) = ±lr for every coordinate with g ≠ 0; w starts at 0 so no decay.
    for (const v of w) if (v !== 0) expect(Math.abs(v)).toBeCloseTo(0.1, 5);
    // Parameters without gradient only decay: p·(1 − lr·wd).
    expect(Array.from(u)).toEqual(Array.from(Float32Array.of(1, -2, 3, 4).map((v) => v * (1 - 0.1 * 0.5))));
    const e = getOrThrow(required(t.emaParameters(), 'EMA parameters'), 'unused').data as Float32Array;
    expect(e[1]).toBeCloseTo(0.9 * -2 + 0.1 * at(u, 1), 6);
    t.dispose();
  });

  it('fits the regression; progress events are monotone with constant total', async () => {
    const events: ProgressEvent[] = [];
    const t = await Trainer.create(initial(), options());
    const res = await t.run({ steps: 150, onProgress: (e) => events.push(e) });
    expect(res.records.length).toBe(150);
    expect(events.map((e) => e.current)).toEqual(Array.from({ length: 150 }, (_, i) => i + 1));
    expect(events.every((e) => e.total === 150 && e.task === 'train' && typeof e.metrics?.['loss'] === 'number')).toBe(true);
    const first = res.records.slice(0, 10).reduce((s, r) => s + r.loss, 0);
    const last = res.records.slice(-10).reduce((s, r) => s + r.loss, 0);
    expect(last).toBeLessThan(0.2 * first);
    t.dispose();
  });

  it('notices an abort raised by a macrotask (e.g. a SIGINT handler) between steps, not only at file writes', async () => {
    const t = await Trainer.create(initial(), options());
    const ctl = new AbortController();
    let steps = 0;
    // The abort comes from a timer, like process.on('SIGINT'): it can only run if the loop yields to the event loop.
    const timer = setImmediate(() => ctl.abort());
    await expect(t.run({ steps: 1000, signal: ctl.signal, onProgress: () => void steps++ })).rejects.toThrow(AbortError);
    clearImmediate(timer);
    expect(steps).toBeLessThan(3);
    t.dispose();
  });

  it('abort → checkpoint → resume gives exactly the uninterrupted loss curve, parameters and EMA', async () => {
    const ref = await Trainer.create(initial(), options());
    await ref.run({ steps: 20 });

    const ctl = new AbortController();
    const a = await Trainer.create(initial(), options({ checkpointDirectory: dir, checkpointEvery: 4 }));
    await expect(a.run({ steps: 20, signal: ctl.signal, onProgress: (e) => e.current === 7 && ctl.abort() })).rejects.toThrow(AbortError);
    expect(a.step).toBe(7);
    a.dispose();
    expect((await loadTrainerCheckpoint(dir)).manifest.step).toBe(7);
    expect((await readdir(dir)).filter((f) => f.startsWith('step-'))).toEqual(['step-000000007']);

    const b = await Trainer.resume(dir, options({ seed: 999 }));
    expect(b.step).toBe(7);
    await b.run({ steps: 20 });
    expect(b.losses).toEqual(ref.losses);
    expect(Array.from(getOrThrow(b.parameters(), 'w').data)).toEqual(Array.from(getOrThrow(ref.parameters(), 'w').data));
    expect(Array.from(getOrThrow(required(b.emaParameters(), 'EMA parameters'), 'w').data)).toEqual(
      Array.from(getOrThrow(required(ref.emaParameters(), 'EMA parameters'), 'w').data),
    );

    // A "killed" run (no abort checkpoint) resumes from the last periodic checkpoint just as well.
    const c = await Trainer.create(initial(), options({ checkpointDirectory: join(dir, 'periodic'), checkpointEvery: 5, keepCheckpoints: 2 }));
    await c.run({ steps: 12 });
    expect((await readdir(join(dir, 'periodic'))).filter((f) => f.startsWith('step-')).sort()).toEqual(['step-000000010', 'step-000000012']);
    const d = await Trainer.resume(join(dir, 'periodic'), options());
    await d.run({ steps: 20 });
    expect(d.losses).toEqual(ref.losses);
    for (const t of [ref, b, c, d]) t.dispose();
  });

  it('checkpoints are plain safetensors + JSON and corrupt manifests are rejected', async () => {
    const t = await Trainer.create(initial(), options({ checkpointDirectory: dir, config: { model: 'regression', dim: DIM } }));
    await t.run({ steps: 3 });
    const ck = await loadTrainerCheckpoint(dir);
    expect(ck.manifest.config).toEqual({ model: 'regression', dim: DIM });
    expect([...ck.optimizer.keys()].sort()).toEqual(['exp_avg.unused', 'exp_avg.w', 'exp_avg_sq.unused', 'exp_avg_sq.w']);
    expect(ck.manifest.losses.length).toBe(3);
    const manifestPath = join(dir, 'step-000000003', 'trainer.json');
    const m = JSON.parse(await readFile(manifestPath, 'utf8')) as Record<string, unknown>;
    await writeFile(manifestPath, JSON.stringify({ ...m, files: { ...(m['files'] as object), params: '../../etc/passwd' } }));
    await expect(loadTrainerCheckpoint(dir)).rejects.toThrow(FormatError);
    t.dispose();
  });

  it('accepts a JSON learning-rate schedule and records it in the checkpoint', async () => {
    const schedule = { kind: 'warmupCosine' as const, lr: 0.05, minLr: 0.01, warmupSteps: 2, totalSteps: 6 };
    const t = await Trainer.create(initial(), options({ learningRate: schedule, checkpointDirectory: dir }));
    const res = await t.run({ steps: 8 });
    expect(res.records.map((r) => r.lr)).toEqual(
      [0, 0.025, 0.05, 0.05 * 0 + 0.01 + 0.04 * 0.5 * (1 + Math.cos(Math.PI / 4)), 0.03, 0.01 + 0.04 * 0.5 * (1 + Math.cos((3 * Math.PI) / 4)), 0.01, 0.01].map(
        (v) => expect.closeTo(v, 12),
      ),
    );
    expect((await loadTrainerCheckpoint(dir)).manifest.learningRate).toEqual(schedule);
    t.dispose();
  });

  it('rejects engines that cannot train and bad hyper-parameters', async () => {
    await expect(Trainer.create(initial(), options({ engine: { ...tapeEngine, canTrain: false } }))).rejects.toThrow(ConfigError);
    await expect(Trainer.create(initial(), options({ betas: [0.9, 1.5] }))).rejects.toThrow(/betas/);
    await expect(Trainer.create(initial(), options({ checkpointEvery: 3 }))).rejects.toThrow(/checkpointDirectory/);
  });
});

describe('Trainer with LARS', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'bigr-trainer-lars-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  /** w [6] (1-D: plain momentum SGD) and m [2, 3] (2-D: trust-scaled, decayed); loss = mean((w⊙x + m⊙x − y)²). */
  const larsInitial = (): NamedTensors =>
    new Map([
      ['w', new CpuTensor(Float32Array.of(0.1, -0.2, 0.3, 0, 0.5, -0.1), [DIM])],
      ['m', new CpuTensor(Float32Array.of(1, -2, 3, 4, -0.5, 0.25), [2, 3])],
    ]);
  const larsOptions = (extra: Partial<TrainerOptions<Batch>> = {}): TrainerOptions<Batch> =>
    options({
      optimizer: { kind: 'lars', momentum: 0.9, trustCoefficient: 0.01 },
      weightDecay: 0.05,
      gradClipNorm: null,
      emaDecay: null,
      learningRate: (step) => 0.5 * Math.min(1, (step + 1) / 4),
      loss:
        (b) =>
        <T>(ops: Ops<T>) => {
          const x = ops.constant(b.x, [DIM]);
          const pred = ops.add(ops.mul(ops.param('w'), x), ops.mul(ops.param('m'), ops.constant(b.x, [2, 3])));
          return { loss: ops.mean(ops.square(ops.sub(pred, ops.constant(b.y, [DIM]))), [0], false) };
        },
      ...extra,
    });

  it('steps with LARS: matches a float64 re-computation of the same batches (trust scaling and decay on m only)', async () => {
    const t = await Trainer.create(larsInitial(), larsOptions());
    await t.run({ steps: 10 });
    // Independent float64 re-run: same batch stream (no dropout in this loss), analytic gradients, LARS by hand.
    const o = larsOptions();
    const rng = createRng(o.seed);
    const w = Array.from(getOrThrow(larsInitial(), 'w').data as Float32Array);
    const m = Array.from(getOrThrow(larsInitial(), 'm').data as Float32Array);
    const bw = new Array<number>(DIM).fill(0);
    const bm = new Array<number>(DIM).fill(0);
    for (let s = 0; s < 10; s++) {
      const b = (await o.batches(s, rng)) as Batch;
      const r = w.map((wi, i) => wi * at(b.x, i) + at(m, i) * at(b.x, i) - at(b.y, i));
      const gw = r.map((ri, i) => (2 / DIM) * ri * at(b.x, i));
      const gm = r.map((ri, i) => (2 / DIM) * ri * at(b.x, i) + 0.05 * at(m, i));
      const q = (0.01 * Math.hypot(...m)) / Math.hypot(...gm);
      const lr = (o.learningRate as (step: number) => number)(s);
      for (let i = 0; i < DIM; i++) {
        const vw = 0.9 * at(bw, i) + at(gw, i);
        const vm = 0.9 * at(bm, i) + at(gm, i) * q;
        bw[i] = vw;
        bm[i] = vm;
        w[i] = at(w, i) - lr * vw;
        m[i] = at(m, i) - lr * vm;
      }
    }
    const tw = getOrThrow(t.parameters(), 'w').data as Float32Array;
    const tm = getOrThrow(t.parameters(), 'm').data as Float32Array;
    for (let i = 0; i < DIM; i++) {
      expect(Math.abs(at(tw, i) - at(w, i))).toBeLessThan(1e-5);
      expect(Math.abs(at(tm, i) - at(m, i))).toBeLessThan(1e-5);
    }
    t.dispose();
  });

  it('abort → checkpoint → resume is bit-identical; the checkpoint records LARS; resuming with AdamW is refused', async () => {
    const ref = await Trainer.create(larsInitial(), larsOptions());
    await ref.run({ steps: 15 });
    const ctl = new AbortController();
    const a = await Trainer.create(larsInitial(), larsOptions({ checkpointDirectory: dir, checkpointEvery: 4 }));
    await expect(a.run({ steps: 15, signal: ctl.signal, onProgress: (e) => e.current === 6 && ctl.abort() })).rejects.toThrow(AbortError);
    a.dispose();
    const ck = await loadTrainerCheckpoint(dir);
    expect(ck.manifest.step).toBe(6);
    expect(ck.manifest.optimizer).toEqual({ algorithm: 'lars', t: 6, momentum: 0.9, trustCoefficient: 0.01 });
    expect([...ck.optimizer.keys()].sort()).toEqual(['mu.m', 'mu.w']);
    expect(ck.optimizer.get('mu.m')?.shape).toEqual([2, 3]);
    await expect(Trainer.resume(dir, larsOptions({ optimizer: 'adamw' }))).rejects.toThrow(/optimiser is "lars" but this run uses "adamw"/);
    await expect(Trainer.resume(dir, larsOptions({ optimizer: undefined }))).rejects.toThrow(ConfigError);
    const b = await Trainer.resume(dir, larsOptions({ seed: 999 }));
    expect(b.step).toBe(6);
    await b.run({ steps: 15 });
    expect(b.losses).toEqual(ref.losses);
    for (const name of ['w', 'm']) expect(Array.from(getOrThrow(b.parameters(), name).data)).toEqual(Array.from(getOrThrow(ref.parameters(), name).data));
    b.dispose();
    ref.dispose();
  });

  it('an AdamW checkpoint is refused by a LARS run, and bad LARS settings are rejected up front', async () => {
    const t = await Trainer.create(initial(), options({ checkpointDirectory: dir }));
    await t.run({ steps: 2 });
    t.dispose();
    expect((await loadTrainerCheckpoint(dir)).manifest.optimizer.algorithm).toBe('adamw');
    await expect(Trainer.resume(dir, options({ optimizer: { kind: 'lars' } }))).rejects.toThrow(/optimiser is "adamw" but this run uses "lars"/);
    await expect(Trainer.create(larsInitial(), larsOptions({ optimizer: { kind: 'lars', trustCoefficient: -1 } }))).rejects.toThrow(/trustCoefficient is -1/);
    await expect(Trainer.create(larsInitial(), larsOptions({ optimizer: { kind: 'sgd' } as unknown as TrainerOptions<Batch>['optimizer'] }))).rejects.toThrow(
      /not supported/,
    );
  });
});
