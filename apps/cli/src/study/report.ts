/**
 * report.md of the paper-in-miniature study: Tables 1–4 and Figure 3 from the pieces' result files, each table next
 * to the paper's ordering with a check of whether the miniature agrees, and the seeds and configs of every run.
 */
import { required } from '@bigr/core';
import type { StudyMetrics } from './evaluateVariant.js';
import type { StudyProbeResult } from './probeVariant.js';
import type { TrainVariantResult } from './trainVariant.js';

/** A finished evaluation piece. */
export interface EvalRecord {
  readonly key: string;
  readonly variant: string;
  readonly sampling: Record<string, unknown>;
  readonly n: number;
  readonly seed: number;
  readonly seconds: number;
  readonly secondsPerImage: number;
  readonly metrics: StudyMetrics;
}

/** Everything the report needs. */
export interface StudyRecords {
  readonly settings: Record<string, unknown>;
  readonly k: number;
  readonly kReason: string;
  readonly tokenizer: Record<string, unknown>;
  readonly train: Readonly<Record<string, TrainVariantResult>>;
  readonly evals: Readonly<Record<string, EvalRecord | undefined>>;
  readonly probes: Readonly<Record<string, StudyProbeResult | undefined>>;
  /** Table slot → eval key. */
  readonly slots: Readonly<Record<string, string>>;
  /** Figure 3 series: label value → eval key. */
  readonly figure: { readonly iterations: readonly [number, string][]; readonly steps: readonly [number, string][] };
  readonly figureFiles: { readonly iterations: string; readonly steps: string };
}

const f = (x: number | undefined, d = 2): string => (x === undefined || !Number.isFinite(x) ? '—' : x.toFixed(d));
const time = (x: number | undefined): string => (x === undefined ? '—' : x < 0.01 ? x.toExponential(2) : x.toFixed(3));

function genCols(e: EvalRecord | undefined): string[] {
  const m = e?.metrics;
  return [time(e?.secondsPerImage), f(m?.fid), f(m?.inceptionScore), f(m?.sfid), f(m?.precision, 3), f(m?.recall, 3)];
}

function probeCols(p: StudyProbeResult | undefined): string[] {
  return [f(p?.acc1), f(p?.acc5)];
}

interface Claim {
  readonly text: string;
  /** Two values compared: the claim holds when `holds(a, b)`. */
  readonly a?: number | undefined;
  readonly b?: number | undefined;
  readonly aName: string;
  readonly bName: string;
  readonly lowerIsBetter: boolean;
  readonly metric: string;
}

function check(c: Claim): string {
  if (c.a === undefined || c.b === undefined || !Number.isFinite(c.a) || !Number.isFinite(c.b)) return `- ${c.text}: not measured yet.`;
  const holds = c.lowerIsBetter ? c.a < c.b : c.a > c.b;
  const rel = Math.abs(c.a - c.b) / Math.max(1e-9, Math.abs(c.b));
  const vs = `${c.metric} ${c.aName} ${f(c.a, 3)} vs ${c.bName} ${f(c.b, 3)}`;
  if (rel < 0.05) return `- ${c.text}: **inconclusive** — ${vs}, within 5 % of each other${holds ? " (the paper's direction)" : ''}.`;
  if (holds) return `- ${c.text}: **agrees** — ${vs}.`;
  return `- ${c.text}: **does not agree** — ${vs} (${(rel * 100).toFixed(1)} % in favour of ${c.bName}).`;
}

/** The probe baselines line under a probe table: the backbone's input (the tokenizer's codes) and raw pixels. */
function baselines(r: StudyRecords): string {
  const codes = r.probes['codes'];
  const pixels = r.probes['pixels'];
  return (
    `Baselines, same probe: the tokenizer's codes (the backbone's input) ACC1 ${f(codes?.acc1)} / ACC5 ${f(codes?.acc5)}; ` +
    `raw pixels ACC1 ${f(pixels?.acc1)} / ACC5 ${f(pixels?.acc5)}. Probe accuracy of every block: ` +
    Object.entries(r.probes)
      .filter(([id, p]) => p && id !== 'codes' && id !== 'pixels')
      .map(([id, p]) => `${id} ${p?.sweep.map((x) => f(x.top1)).join(' → ')}`)
      .join('; ') +
    ' (held-out split, block 0 first).'
  );
}

/** Builds report.md. */
export function studyReport(r: StudyRecords): string {
  const E = (slot: string): EvalRecord | undefined => r.evals[r.slots[slot] ?? ''];
  const P = (id: string): StudyProbeResult | undefined => r.probes[id];
  const lines: string[] = [];
  lines.push('# BiGR paper in miniature (Fashion-MNIST)', '');
  lines.push(
    `One shared tokenizer (K = ${r.k} bits per token: ${r.kReason}), one compute budget per model (same steps, batch and learning-rate schedule), ` +
      `evaluated with the FMNIST metrics of docs/evaluation.md §9.2 ` +
      `(class-balanced samples; FID/sFID/IS/precision/recall on the Fashion-MNIST classifier's features) and the linear probe of docs/evaluation.md §8.8 ` +
      `(best block on a held-out split, then top-1/top-5 on the test set). ` +
      `Time = wall seconds per generated image on this machine (batch generation, decoding included).`,
    '',
  );
  const header = '| model | time (s/img) ↓ | FID ↓ | IS ↑ | sFID ↓ | precision ↑ | recall ↑ | ACC1 ↑ | ACC5 ↑ |';
  const sep = '|---|---|---|---|---|---|---|---|---|';

  lines.push('## Table 1: uniformity comparison', '', header, sep);
  for (const [id, label] of [
    ['s0', 'S0 (bin. codes, cat., AR)'],
    ['s1', 'S1 (cat., mask)'],
    ['s2', 'S2 (bin., AR)'],
    ['s3', 'S3 (bin., mask = BiGR)'],
  ] as const) {
    lines.push(`| ${label} | ${[...genCols(E(`t1-${id}`)), ...probeCols(P(id))].join(' | ')} |`);
  }
  lines.push(
    '',
    baselines(r),
    '',
    'Paper (ImageNet 256², Table 1): FID S3 3.17 < S0 3.21 < S1 3.85 < S2 7.50; ACC1 S3 64.3 > S1 61.1 > S2 45.2 > S0 23.8; ' +
      'time S1 0.10 < S0 0.15 < S3 0.69 < S2 1.04.',
    '',
  );
  const fid = (slot: string) => E(slot)?.metrics.fid;
  const t = (slot: string) => E(slot)?.secondsPerImage;
  const claims1: Claim[] = [
    {
      text: 'S3 has the best FID of the four',
      a: fid('t1-s3'),
      b: Math.min(...['t1-s0', 't1-s1', 't1-s2'].map((s) => fid(s) ?? Infinity)),
      aName: 'S3',
      bName: 'best other',
      lowerIsBetter: true,
      metric: 'FID',
    },
    {
      text: 'S3 has the best ACC1 of the four',
      a: P('s3')?.acc1,
      b: Math.max(...['s0', 's1', 's2'].map((s) => P(s)?.acc1 ?? -Infinity)),
      aName: 'S3',
      bName: 'best other',
      lowerIsBetter: false,
      metric: 'ACC1',
    },
    {
      text: '(2) for generation, AR suits the categorical loss (S0 better than S1)',
      a: fid('t1-s0'),
      b: fid('t1-s1'),
      aName: 'S0',
      bName: 'S1',
      lowerIsBetter: true,
      metric: 'FID',
    },
    {
      text: '(2) and masking suits the binary loss (S3 better than S2)',
      a: fid('t1-s3'),
      b: fid('t1-s2'),
      aName: 'S3',
      bName: 'S2',
      lowerIsBetter: true,
      metric: 'FID',
    },
    {
      text: '(3) for discrimination, masking beats AR with the categorical loss (S1 > S0)',
      a: P('s1')?.acc1,
      b: P('s0')?.acc1,
      aName: 'S1',
      bName: 'S0',
      lowerIsBetter: false,
      metric: 'ACC1',
    },
    {
      text: '(3) masking beats AR with the binary loss (S3 > S2)',
      a: P('s3')?.acc1,
      b: P('s2')?.acc1,
      aName: 'S3',
      bName: 'S2',
      lowerIsBetter: false,
      metric: 'ACC1',
    },
    { text: '(3) the binary loss further helps (S3 > S1)', a: P('s3')?.acc1, b: P('s1')?.acc1, aName: 'S3', bName: 'S1', lowerIsBetter: false, metric: 'ACC1' },
    {
      text: '(4) masked sampling is faster than AR (S1 faster than S0)',
      a: t('t1-s1'),
      b: t('t1-s0'),
      aName: 'S1',
      bName: 'S0',
      lowerIsBetter: true,
      metric: 'time',
    },
    {
      text: '(4) masked sampling is faster than AR (S3 faster than S2)',
      a: t('t1-s3'),
      b: t('t1-s2'),
      aName: 'S3',
      bName: 'S2',
      lowerIsBetter: true,
      metric: 'time',
    },
    {
      text: '(4) the binary objective costs time through diffusion (S3 slower than S1)',
      a: t('t1-s3'),
      b: t('t1-s1'),
      aName: 'S3',
      bName: 'S1',
      lowerIsBetter: false,
      metric: 'time',
    },
  ];
  lines.push(...claims1.map(check), '');

  lines.push('## Table 2: binary transcoder comparison', '', header, sep);
  for (const [slot, id, label] of [
    ['t2-bce', 'bce', 'direct BCE (w/o Bernoulli denoising)'],
    ['t2-z0', 'z0', 'predict z0'],
    ['t1-s3', 's3', 'predict z_t ⊕ z0 (BiGR)'],
  ] as const) {
    lines.push(`| ${label} | ${[...genCols(E(slot)), ...probeCols(P(id))].join(' | ')} |`);
  }
  lines.push('', 'Paper (Table 2): FID XOR 3.17 < z0 4.39 < direct BCE 5.84; ACC1 XOR 64.3 > BCE 63.3 > z0 62.0.', '');
  lines.push(
    ...[
      { text: 'XOR beats z0 prediction (FID)', a: fid('t1-s3'), b: fid('t2-z0'), aName: 'XOR', bName: 'z0', lowerIsBetter: true, metric: 'FID' },
      { text: 'XOR beats direct BCE (FID)', a: fid('t1-s3'), b: fid('t2-bce'), aName: 'XOR', bName: 'direct BCE', lowerIsBetter: true, metric: 'FID' },
      {
        text: 'Bernoulli denoising (z0) beats direct BCE (FID)',
        a: fid('t2-z0'),
        b: fid('t2-bce'),
        aName: 'z0',
        bName: 'direct BCE',
        lowerIsBetter: true,
        metric: 'FID',
      },
      {
        text: 'XOR has the best ACC1',
        a: P('s3')?.acc1,
        b: Math.max(P('z0')?.acc1 ?? -Infinity, P('bce')?.acc1 ?? -Infinity),
        aName: 'XOR',
        bName: 'best other',
        lowerIsBetter: false,
        metric: 'ACC1',
      },
    ].map(check),
    '',
  );

  lines.push(
    '## Table 3: sampling order comparison (one trained S3 model; AR row = S2)',
    '',
    '| type | order | time (s/img) ↓ | FID ↓ | IS ↑ | sFID ↓ | precision ↑ | recall ↑ |',
    '|---|---|---|---|---|---|---|---|',
  );
  for (const [slot, type, order] of [
    ['t1-s2', 'AR', 'raster'],
    ['t3-raster', 'mask', 'raster'],
    ['t3-random', 'mask', 'random'],
    ['t1-s3', 'mask', 'entropy (ours)'],
  ] as const) {
    lines.push(`| ${type} | ${order} | ${genCols(E(slot)).join(' | ')} |`);
  }
  lines.push('', 'Paper (Table 3): FID entropy 3.17 < mask raster 4.51 < mask random 7.12 < AR raster 7.50.', '');
  lines.push(
    ...[
      { text: 'entropy order beats mask raster', a: fid('t1-s3'), b: fid('t3-raster'), aName: 'entropy', bName: 'raster', lowerIsBetter: true, metric: 'FID' },
      { text: 'entropy order beats random order', a: fid('t1-s3'), b: fid('t3-random'), aName: 'entropy', bName: 'random', lowerIsBetter: true, metric: 'FID' },
      {
        text: 'mask raster beats random order',
        a: fid('t3-raster'),
        b: fid('t3-random'),
        aName: 'raster',
        bName: 'random',
        lowerIsBetter: true,
        metric: 'FID',
      },
      {
        text: 'every mask order beats AR raster (S2)',
        a: Math.max(fid('t1-s3') ?? Infinity, fid('t3-raster') ?? Infinity, fid('t3-random') ?? Infinity),
        b: fid('t1-s2'),
        aName: 'worst mask order',
        bName: 'AR',
        lowerIsBetter: true,
        metric: 'FID',
      },
    ].map(check),
    '',
  );

  lines.push('## Table 4: conditional vs unconditional training (linear probe)', '', '| training | ACC1 ↑ | ACC5 ↑ |', '|---|---|---|');
  lines.push(`| conditional (S3) | ${probeCols(P('s3')).join(' | ')} |`, `| unconditional | ${probeCols(P('uncond')).join(' | ')} |`);
  lines.push('', baselines(r), '', 'Paper (Table 4, BiGR-L-d20): ACC1 cond. 67.5 < uncond. 68.3.', '');
  lines.push(
    check({
      text: 'unconditional training probes better',
      a: P('uncond')?.acc1,
      b: P('s3')?.acc1,
      aName: 'uncond.',
      bName: 'cond.',
      lowerIsBetter: false,
      metric: 'ACC1',
    }),
    '',
  );

  lines.push('## Figure 3: FID vs sample time (S3)', '');
  lines.push(`![FID vs time over sampling iterations N](${r.figureFiles.iterations})`, '', `![FID vs time over diffusion steps T](${r.figureFiles.steps})`, '');
  lines.push('| series | value | time (s/img) | FID |', '|---|---|---|---|');
  for (const [name, series] of [
    ['iterations N', r.figure.iterations],
    ['diffusion steps T', r.figure.steps],
  ] as const) {
    for (const [v, key] of series) lines.push(`| ${name} | ${v} | ${time(r.evals[key]?.secondsPerImage)} | ${f(r.evals[key]?.metrics.fid)} |`);
  }
  const fids = (s: readonly [number, string][]) =>
    s.map(([v, k]) => [v, r.evals[k]?.metrics.fid] as const).filter((x): x is readonly [number, number] => x[1] !== undefined && Number.isFinite(x[1]));
  const it = fids(r.figure.iterations);
  const st = fids(r.figure.steps);
  lines.push(
    '',
    'Paper (Figure 3): FID is nearly flat in the number of diffusion steps T, ' +
      'and has an optimum in the number of iterations N (BiGR-L: N = 20, not the largest).',
    '',
  );
  if (st.length > 1) {
    const vals = st.map((x) => x[1]);
    const spread = (Math.max(...vals) - Math.min(...vals)) / Math.min(...vals);
    const verdict = spread < 0.15 ? '**agrees** (nearly flat: within 15 %)' : '**does not agree** (more than 15 % apart)';
    const at = (v: number) => st.find((x) => x[1] === v)?.[0];
    lines.push(
      `- FID over T varies by ${(spread * 100).toFixed(1)} % (min ${f(Math.min(...vals))} at T = ${at(Math.min(...vals))}, ` +
        `max ${f(Math.max(...vals))} at T = ${at(Math.max(...vals))}): ${verdict}.`,
    );
  }
  if (it.length > 2) {
    const best = required([...it].sort((a, b) => a[1] - b[1])[0], 'setting with the lowest FID');
    const ns = it.map((x) => x[0]);
    const interior = best[0] !== Math.min(...ns) && best[0] !== Math.max(...ns);
    const verdict = interior
      ? '**agrees** (an interior optimum)'
      : `**does not agree** — the optimum is at the ${best[0] === Math.max(...ns) ? 'largest' : 'smallest'} N tried`;
    lines.push(`- best N = ${best[0]} (FID ${f(best[1])}): ${verdict}.`);
  }
  lines.push('');

  lines.push(
    '## Runs: seeds and configs',
    '',
    '```json',
    JSON.stringify(
      {
        settings: r.settings,
        tokenizer: r.tokenizer,
        training: r.train,
        evaluations: Object.fromEntries(
          Object.entries(r.evals).map(([k, e]) => [k, e ? { variant: e.variant, sampling: e.sampling, n: e.n, seed: e.seed, seconds: e.seconds } : null]),
        ),
        probes: Object.fromEntries(
          Object.entries(r.probes).map(([k, p]) => [
            k,
            p ? { layer: p.layer, sweep: p.sweep, trainCount: p.trainCount, testCount: p.testCount, seconds: p.seconds } : null,
          ]),
        ),
      },
      null,
      2,
    ),
    '```',
    '',
  );
  return lines.join('\n');
}
