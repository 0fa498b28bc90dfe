import { main } from './main.js';
import { capture } from './testing/runCli.js';

describe('bigr env', () => {
  it('reports engines as JSON, with a reason for each missing one', async () => {
    const out = capture();
    const err = capture();
    const code = await main(['--json', 'env'], { stdout: out.stream, stderr: err.stream });
    expect(code).toBe(0);
    const info = JSON.parse(out.text()) as { engines: { name: string; available: boolean; reason?: string }[] };
    const names = info.engines.map((e) => e.name);
    expect(names).toEqual(expect.arrayContaining(['tfjs-wasm', 'tfjs-cpu']));
    expect(info.engines.find((e) => e.name === 'tfjs-wasm')?.available).toBe(true);
    for (const e of info.engines.filter((x) => !x.available)) expect(e.reason).toBeTruthy();
  });
  it('returns exit code 2 on an unknown flag', async () => {
    const err = capture();
    expect(await main(['generate-nope'], { stdout: capture().stream, stderr: err.stream })).toBe(2);
  });
});
