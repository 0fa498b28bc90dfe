#!/usr/bin/env node
// Loss-vs-wall-time curves of the bundled model's training runs, as JSON: the per-step losses come from each run's
// latest trainer checkpoint (`<run>/checkpoints/<step>/trainer.json`), the wall clock from a step log of
// "<unix seconds> <log file> <command>: <step>/" lines sampled every 10 s while the runs trained
// (runs/poll-steps.sh), interpolated linearly between samples. Losses are also given as a 100-step running mean.
//
//   node scripts/training-curves.mjs --steps-log=runs/step-times.txt \
//     --run=tokenizer:runs/fmnist-tokenizer-v2:retrain.log:<start unix s> --run=bigr:runs/fmnist-bigr-v2:retrain-bigr.log:<start unix s> \
//     --out=docs/results/bundled-model/training-curves.json
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';

const args = process.argv.slice(2);
const opt = (k) => args.filter((a) => a.startsWith(`--${k}=`)).map((a) => a.slice(k.length + 3));
const stepsLog = readFileSync(opt('steps-log')[0], 'utf8')
  .trim()
  .split('\n')
  .map((l) => l.split(' '));
const out = { generatedBy: 'scripts/training-curves.mjs', runs: {} };
for (const spec of opt('run')) {
  const [name, dir, log, start] = spec.split(':');
  const latest = JSON.parse(readFileSync(join(dir, 'checkpoints', 'latest.json'), 'utf8'));
  const manifest = JSON.parse(readFileSync(join(dir, 'checkpoints', latest.path, 'trainer.json'), 'utf8'));
  const losses = manifest.losses;
  const samples = [[Number(start), 0], ...stepsLog.filter((r) => r[1] === log).map((r) => [Number(r[0]), Number(r[3].replace('/', ''))])];
  const timeAt = (step) => {
    for (let i = 1; i < samples.length; i++) {
      const [t1, s1] = samples[i];
      const [t0, s0] = samples[i - 1];
      if (s1 >= step && s1 > s0) return t0 - Number(start) + ((step - s0) / (s1 - s0)) * (t1 - t0);
    }
    const [tl, sl] = samples[samples.length - 1];
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
const file = opt('out')[0];
mkdirSync(dirname(file), { recursive: true });
writeFileSync(file, `${JSON.stringify(out, null, 1)}\n`);
console.log(`wrote ${file}`);
