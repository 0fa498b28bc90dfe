/**
 * The gradient of a training loss as a definition over any engine's ops: run the loss function on a
 * {@link TapeOps} over `inner`, then build its backward pass on `inner` too. The ONNX training engine calls this
 * with its graph-emitting ops to get one train-step graph; tests call it with eager ops. See docs/engines.md.
 */
import type { LossFunction } from '../engine.js';
import { ShapeError } from '../errors.js';
import type { Ops } from '../ops.js';
import type { Rng } from '../rng.js';
import { TapeOps, type ParameterSignature, type Traced } from './tapeOps.js';

/** Loss, metrics and parameter gradients as handles of the inner ops. */
export interface LossGradients<T> {
  /** The scalar loss. */
  readonly loss: T;
  /** Extra scalars returned by the loss function. */
  readonly metrics: Readonly<Record<string, T>>;
  /** d loss / d parameter for every float32 parameter; `null` where the loss does not depend on it. */
  readonly grads: ReadonlyMap<string, T | null>;
  /** Number of differentiable ops recorded (the size of the backward pass). */
  readonly tapeLength: number;
}

/** Options of {@link lossGradients}. */
export interface LossGradientOptions {
  /** Source of dropout masks (required when the loss uses dropout). */
  readonly rng?: Rng;
  /** Dropout active; default true. */
  readonly training?: boolean;
  /** Parameters that get no gradient. */
  readonly frozen?: ReadonlySet<string>;
}

function scalarOf<T>(v: unknown, what: string): Traced<T> {
  const t = v as Traced<T> | undefined;
  if (!t || !Array.isArray(t.shape)) throw new ShapeError(`${what} must be a value returned by the ops, got ${typeof v}.`);
  if (t.shape.reduce((a, b) => a * b, 1) !== 1)
    throw new ShapeError(`${what} must be a scalar (one element) but has shape [${t.shape.join(', ')}]; reduce it with ops.mean or ops.sum.`);
  return t;
}

/** Runs `loss` on a tape over `inner` and returns its value, metrics and gradients as `inner` handles. */
export function lossGradients<T>(
  inner: Ops<T>,
  parameters: ReadonlyMap<string, ParameterSignature>,
  loss: LossFunction,
  options: LossGradientOptions = {},
): LossGradients<T> {
  const tape = new TapeOps(inner, {
    parameters,
    training: options.training ?? true,
    ...(options.rng ? { rng: options.rng } : {}),
    ...(options.frozen ? { frozen: options.frozen } : {}),
  });
  const out = loss(tape);
  const lossValue = scalarOf<T>(out.loss, 'The loss');
  const metrics: Record<string, T> = {};
  for (const [k, v] of Object.entries(out.metrics ?? {})) metrics[k] = scalarOf<T>(v, `Metric "${k}"`).value;
  const names = [...parameters].filter(([, p]) => p.dtype === 'float32').map(([n]) => n);
  const used = tape.usedParameters;
  const wrt = names.flatMap((n) => {
    const traced = used.get(n);
    return traced === undefined ? [] : [{ name: n, traced }];
  });
  const g = tape.backward(
    lossValue,
    wrt.map((w) => w.traced),
  );
  const grads = new Map<string, T | null>(names.map((n) => [n, null]));
  wrt.forEach((w, i) => {
    grads.set(w.name, g[i] ?? null);
  });
  return { loss: lossValue.value, metrics, grads, tapeLength: tape.tapeLength };
}
