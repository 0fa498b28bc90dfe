/**
 * onnxruntime-web's wasm backend computes synchronously inside `session.run`, so a loop of runs awaits only
 * already-settled promises and never lets the event loop deliver messages, clicks or abort requests. Engines call
 * {@link yieldIfDue} before each run: at most every `intervalMs` it waits for one macrotask (a MessageChannel
 * round trip in browsers, which they do not throttle like `setTimeout`; `setImmediate` in Node).
 */
let last = 0;
let channel: MessageChannel | undefined;
const waiting: (() => void)[] = [];

function macrotask(): Promise<void> {
  // Node (and Deno/Bun): setImmediate is an unthrottled macrotask that keeps the process alive while pending.
  const immediate = (globalThis as { setImmediate?: (fn: () => void) => unknown }).setImmediate;
  if (typeof immediate === 'function') return new Promise((resolve) => void immediate(resolve));
  if (typeof MessageChannel === 'undefined') return new Promise((resolve) => setTimeout(resolve, 0));
  if (!channel) {
    channel = new MessageChannel();
    channel.port1.onmessage = () => waiting.shift()?.();
  }
  const c = channel;
  return new Promise((resolve) => {
    waiting.push(resolve);
    c.port2.postMessage(null);
  });
}

/** Waits for one macrotask when more than `intervalMs` (default 25 ms) passed since the last one. */
export async function yieldIfDue(intervalMs = 25): Promise<void> {
  const now = typeof performance !== 'undefined' ? performance.now() : Date.now();
  if (now - last < intervalMs) return;
  await macrotask();
  last = typeof performance !== 'undefined' ? performance.now() : Date.now();
}
