#!/usr/bin/env node
// Loss-vs-wall-time curves of the bundled model's training runs, as JSON: the per-step losses come from each run's
// latest trainer checkpoint (`<run>/checkpoints/<step>/trainer.json`), the wall clock from a step log of
// "<unix seconds> <log file> <command>: <step>/" lines sampled every 10 s while the runs trained
// (runs/poll-steps.sh), interpolated linearly between samples. Losses are also given as a 100-step running mean.
//
//   node scripts/training-curves.mjs --steps-log=runs/step-times.txt \
//     --run=tokenizer:runs/fmnist-tokenizer-v2:retrain.log:<start unix s> --run=bigr:runs/fmnist-bigr-v2:retrain-bigr.log:<start unix s> \
//     --out=docs/results/bundled-model/training-curves.json

// @ts-check
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';

const args = process.argv.slice(2);
/** Every value of `--k=value`. */
const opt = (k) => args.filter((a) => a.startsWith(`--${k}=`)).map((a) => a.slice(k.length + 3));
/** The value of `--k=value`; exits naming the option when it is missing. */
const need = (k) => {
  const [v] = opt(k);
  if (v === undefined) {
    console.error(`--${k}=… is required (see the usage at the top of scripts/training-curves.mjs).`);
    process.exit(1);
  }
  return v;
};
const stepsLog = readFileSync(need('steps-log'), 'utf8')
  .trim()
  .split('\n')
  .map((l) => l.split(' '));
/** @type {{ generatedBy: string, runs: Record<string, unknown> }} */
const out = { generatedBy: 'scripts/training-curves.mjs', runs: {} };
for (const spec of opt('run')) {
  const [name, dir, log, start] = spec.split(':');
  if (name === undefined || dir === undefined || log === undefined || start === undefined) {
    console.error(`--run=${spec}: expected name:directory:log file:start unix seconds.`);
    process.exit(1);
  }
  const latest = JSON.parse(readFileSync(join(dir, 'checkpoints', 'latest.json'), 'utf8'));
  const manifest = JSON.parse(readFileSync(join(dir, 'checkpoints', latest.path, 'trainer.json'), 'utf8'));
  const losses = manifest.losses;
  /** (unix seconds, step) samples, starting with (start, 0). @type {[number, number][]} */
  const samples = [
    [Number(start), 0],
    ...stepsLog.filter((r) => r[1] === log).map((r) => /** @type {[number, number]} */ ([Number(r[0]), Number(r[3]?.replace('/', ''))])),
  ];
  const timeAt = (step) => {
    // Consecutive samples, and the last one (the list holds at least the start).
    let [tl, sl] = samples[0] ?? [Number(start), 0];
    for (const [t1, s1] of samples.slice(1)) {
      const [t0, s0] = [tl, sl];
      if (s1 >= step && s1 > s0) return t0 - Number(start) + ((step - s0) / (s1 - s0)) * (t1 - t0);
      [tl, sl] = [t1, s1];
    }
    return tl - Number(start) + (step - sl) * 0; // after the last sample: last known time
  };
  const every = Math.max(1, Math.floor(losses.length / 400));
  const points = [];
  for (let s = 0; s < losses.length; s += every) {
    const lo = Math.max(0, s - 99);
    const window = losses.slice(lo, s + 1);
    points.push({ step: s + 1, seconds: Math.round(timeAt(s + 1) * 10) / 10, loss: losses[s], meanLoss100: window.reduce((a, b) => a + b, 0) / window.length });
  }
  out.runs[name] = { directory: dir, steps: losses.length, config: manifest.config ?? null, points };
}
const file = need('out');
mkdirSync(dirname(file), { recursive: true });
writeFileSync(file, `${JSON.stringify(out, null, 1)}\n`);
console.log(`wrote ${file}`);
