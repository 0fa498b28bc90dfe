// Bundles every browser entry of the BiGR packages for a browser target (esbuild, platform 'browser', so the
// package.json "default"/"browser" export conditions apply and "node" does not) and fails on any Node built-in
// import (`node:*`, `fs`, `path`, ...). Usage: node apps/web/scripts/checkBrowserEntries.mjs (after the builds).
import { builtinModules } from 'node:module';
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';

/** The packages a web app needs, each imported through its bare name as a bundler would. */
export const BROWSER_ENTRIES = [
  '@bigr/core',
  '@bigr/tokenizer',
  '@bigr/backbone',
  '@bigr/transcoder',
  '@bigr/sampler',
  '@bigr/pipeline',
  '@bigr/engine-onnx/graph',
  '@bigr/engine-onnx-web',
];

const BUILTINS = new Set(builtinModules.flatMap((m) => [m, `node:${m}`]));

/**
 * Bundles `entry` for the browser; returns the Node built-ins it imports (with the importing file) and esbuild's
 * errors. An empty result means the entry is browser-safe. `conditions` adds export conditions (the test passes
 * ['node'] to see that the check does catch the Node entries).
 */
export async function checkBrowserEntry(entry, { conditions = [] } = {}) {
  const nodeImports = [];
  const plugin = {
    name: 'forbid-node-builtins',
    setup(build) {
      build.onResolve({ filter: /.*/ }, (args) => {
        if (args.path.startsWith('node:') || BUILTINS.has(args.path)) {
          nodeImports.push(`${args.path} (imported by ${args.importer})`);
          return { path: args.path, external: true };
        }
        return undefined;
      });
    },
  };
  const errors = [];
  try {
    await esbuild.build({
      stdin: {
        contents: `import * as m from '${entry}';\nglobalThis.__bigrEntry = m;\n`,
        resolveDir: fileURLToPath(new URL('..', import.meta.url)),
        loader: 'js',
      },
      bundle: true,
      write: false,
      platform: 'browser',
      conditions,
      format: 'esm',
      target: 'es2022',
      logLevel: 'silent',
      // Resolve @bigr/* through package.json exports as an app would (the packages' tsconfig paths point at src/index.ts).
      tsconfigRaw: {},
      plugins: [plugin],
    });
  } catch (err) {
    for (const e of err.errors ?? [{ text: String(err) }]) errors.push(`${e.text}${e.location ? ` (${e.location.file}:${e.location.line})` : ''}`);
  }
  return { entry, nodeImports, errors };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  let failed = false;
  for (const entry of BROWSER_ENTRIES) {
    const r = await checkBrowserEntry(entry);
    const ok = r.nodeImports.length === 0 && r.errors.length === 0;
    failed ||= !ok;
    console.log(`${ok ? 'ok  ' : 'FAIL'} ${entry}`);
    for (const n of r.nodeImports) console.log(`     node import: ${n}`);
    for (const e of r.errors) console.log(`     error: ${e}`);
  }
  process.exitCode = failed ? 1 : 0;
}
