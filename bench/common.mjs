// Shared header of the bench/*.mjs scripts: `--key=value` arguments (and `--help`, which prints the script's leading
// comment), loading the built workspace packages (packages/<name>/dist), the machine description, the onnxruntime
// matmul peak and markdown-table printing. Not a benchmark itself.

// @ts-check
import { existsSync, readFileSync } from 'node:fs';
import os from 'node:os';
import { fileURLToPath } from 'node:url';

/** The repository root (with a trailing slash). */
export const repo = fileURLToPath(new URL('..', import.meta.url));

/**
 * The script's `--key=value` arguments as an object (`--flag` alone is `'true'`). With `--help`, prints the leading
 * `//` comment block of the script at `scriptUrl` (its usage) and exits.
 */
export function parseArgs(scriptUrl, argv = process.argv.slice(2)) {
  const args = Object.fromEntries(
    argv.map((a) => {
      const [k, v = 'true'] = a.replace(/^--/, '').split('=');
      return [k, v];
    }),
  );
  if (args.help !== undefined && scriptUrl) {
    const lines = readFileSync(new URL(scriptUrl), 'utf8').split('\n');
    const usage = [];
    for (const line of lines.slice(lines[0]?.startsWith('#!') ? 1 : 0)) {
      if (!line.startsWith('//')) break;
      usage.push(line.replace(/^\/\/ ?/, ''));
    }
    console.log(usage.join('\n'));
    process.exit(0);
  }
  return args;
}

/** Whether packages/<pkg>/dist has been built. */
export function isBuilt(pkg) {
  return existsSync(`${repo}/packages/${pkg}/dist/index.js`);
}

/**
 * Exits with an error naming the build command unless every one of `pkgs` is built. `message` replaces the
 * per-package default.
 */
export function requireBuilt(script, pkgs, message) {
  for (const pkg of pkgs) {
    if (isBuilt(pkg)) continue;
    console.error(message ?? `${script} needs packages/${pkg}/dist: build it with npx tsc -p packages/${pkg}/tsconfig.build.json.`);
    process.exit(1);
  }
}

/**
 * Checks (see {@link requireBuilt}) and imports the built `@bigr/<pkg>` packages, in order; resolves to their
 * modules in the same order.
 */
export async function importBuilt(script, pkgs, message) {
  requireBuilt(script, pkgs, message);
  const modules = [];
  for (const pkg of pkgs) modules.push(await import(`@bigr/${pkg}`));
  return modules;
}

/** Imports `@bigr/<pkg>` when it is built and `wanted`; resolves to whether it is built. */
export async function importOptional(pkg, wanted = true) {
  const built = isBuilt(pkg);
  if (built && wanted) await import(`@bigr/${pkg}`);
  return built;
}

/** This machine: CPU model (undefined when unknown), CPU count. */
export function machine() {
  const cpus = os.cpus();
  return { cpu: cpus[0]?.model, cpus: cpus.length };
}

/** First line of an error's message. */
export function errorLine(err) {
  // split always returns at least one piece
  return String(err?.message ?? err).split('\n')[0] ?? '';
}

/**
 * onnxruntime's float32 matmul peak (2048^3) on `threads` threads, measured for about two seconds. 2048 rather than
 * 1024: at 1024 a product takes ~6 ms on 2 cores and thread wake-up and the copies in and out dominate — the median
 * fell to a third of the best run there, while 2048 runs within 5 % of its best (measured on this 2-core machine).
 */
export function measurePeak(onnxPkg, threads) {
  return onnxPkg.measureMatmulPeak({ threads, size: PEAK_SIZE, minSeconds: 2 });
}

const PEAK_SIZE = 2048;

/** The report line of {@link measurePeak}'s result (`unit` is appended to the median). */
export function peakLine(peak, threads, unit = '') {
  return (
    `onnxruntime matmul peak (${PEAK_SIZE}^3, ${threads} thread${threads > 1 ? 's' : ''}): best ${peak.gflops.toFixed(1)} GFLOP/s, ` +
    `median ${peak.medianGflops.toFixed(1)}${unit}`
  );
}

/** One markdown table row. */
export function tableRow(cells) {
  return `| ${cells.join(' | ')} |`;
}

/**
 * Prints a markdown table header: the column titles and the separator line (`---` per column, or dashes as wide as
 * each padded title with `aligned`).
 */
export function printTableHeader(columns, { aligned = false } = {}) {
  console.log(tableRow(columns));
  console.log(`|${columns.map((c) => (aligned ? '-'.repeat(c.length + 2) : '---')).join('|')}|`);
}
