/**
 * Entry point of a {@link SamplerPool} worker thread: loads the model through the pool's factory (with
 * `BIGR_THREADS` set to the per-worker thread count), then samples jobs of (labels, per-image seeds) with
 * {@link generate} and per-image streams, so a job's bits do not depend on which worker ran it.
 */
import { parentPort } from 'node:worker_threads';
import { ConfigError } from '@bigr/core';
import { classCondition } from './conditions.js';
import { generate } from './generate.js';
import { imageRngs } from './imageRngs.js';
import type { FromWorker, SamplerWorkerFactory, SamplerWorkerModel, ToWorker, WorkerErrorInfo } from './samplerWorkerProtocol.js';

function errorInfo(err: unknown): WorkerErrorInfo {
  const e = err as { name?: unknown; message?: unknown; stack?: unknown };
  return {
    name: typeof e?.name === 'string' ? e.name : 'Error',
    message: String(e?.message ?? err),
    ...(typeof e?.stack === 'string' ? { stack: e.stack } : {}),
  };
}

/** The array itself when it owns its whole buffer (so the buffer can be transferred), else a copy. */
function owned<T extends Uint8Array | Float32Array>(a: T): T {
  return a.byteOffset === 0 && a.byteLength === a.buffer.byteLength && a.buffer instanceof ArrayBuffer ? a : (a.slice() as T);
}

const port = parentPort;
if (port) {
  let model: SamplerWorkerModel | null = null;
  const aborts = new Map<number, AbortController>();
  const post = (m: FromWorker, transfer: ArrayBuffer[] = []): void => port.postMessage(m, transfer);
  // Jobs run one after another (the pool sends a worker one job at a time); abort messages interleave while a job
  // awaits its engine calls.
  let chain: Promise<void> = Promise.resolve();
  port.on('message', (msg: ToWorker) => {
    if (msg.type === 'abort') {
      aborts.get(msg.id)?.abort();
      return;
    }
    chain = chain.then(async () => {
      switch (msg.type) {
        case 'init': {
          try {
            process.env['BIGR_THREADS'] = String(msg.threads);
            const mod = (await import(msg.factory.module)) as Record<string, unknown>;
            const name = msg.factory.exportName ?? 'default';
            const factory = mod[name];
            if (typeof factory !== 'function')
              throw new ConfigError(
                `Sampler factory module ${msg.factory.module} has no exported function "${name}"; export an async (args) => ({ predictor, tokenizer }).`,
              );
            model = await (factory as SamplerWorkerFactory)(msg.factory.args);
            post({ type: 'ready' });
          } catch (err) {
            post({ type: 'init-error', error: errorInfo(err) });
          }
          return;
        }
        case 'sample': {
          const controller = new AbortController();
          aborts.set(msg.id, controller);
          try {
            if (!model) throw new ConfigError('The sampler worker has no model; it failed to initialise.');
            if (!model.predictor) throw new ConfigError('This worker pool was created without a predictor (its factory returned none); it cannot sample.');
            const r = await generate({
              ...msg.settings,
              ...model.settings,
              predictor: model.predictor,
              condition: classCondition(msg.labels),
              rng: imageRngs(msg.seeds),
              ...(msg.decode && model.tokenizer ? { tokenizer: model.tokenizer } : {}),
              signal: controller.signal,
              onProgress: (e) => post({ type: 'progress', id: msg.id, current: e.current, total: e.total }),
            });
            const codes = owned(r.codes.data);
            const images = r.images ? owned(r.images.data as Float32Array) : null;
            post(
              {
                type: 'result',
                id: msg.id,
                codes,
                codesShape: r.codes.shape,
                images,
                imagesShape: r.images ? r.images.shape : null,
                stats: model.jobStats ? { ...model.jobStats() } : null,
              },
              images ? [codes.buffer as ArrayBuffer, images.buffer as ArrayBuffer] : [codes.buffer as ArrayBuffer],
            );
          } catch (err) {
            post({ type: 'error', id: msg.id, error: errorInfo(err) });
          } finally {
            aborts.delete(msg.id);
          }
          return;
        }
        case 'call': {
          const controller = new AbortController();
          aborts.set(msg.id, controller);
          try {
            const method = model?.methods?.[msg.method];
            if (!method)
              throw new ConfigError(`This worker offers no method "${msg.method}" (it has ${Object.keys(model?.methods ?? {}).join(', ') || 'none'}).`);
            const r = await method(msg.args, controller.signal);
            post({ type: 'called', id: msg.id, value: r.value }, [...(r.transfer ?? [])]);
          } catch (err) {
            post({ type: 'error', id: msg.id, error: errorInfo(err) });
          } finally {
            aborts.delete(msg.id);
          }
          return;
        }
        case 'close': {
          try {
            await model?.dispose?.();
          } finally {
            model = null;
            post({ type: 'closed' });
          }
          return;
        }
      }
    });
  });
}
