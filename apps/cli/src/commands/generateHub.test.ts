import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { required } from '@bigr/core';
import { runCli } from '../testing/runCli.js';
import { writeTinyModel, type TinyModel } from '../testing/tinyModel.js';

// `--model owner/name[@revision]` on the sampling commands: the model is downloaded from a Hub-layout server into
// the cache (BIGR_HUB_URL, BIGR_CACHE) and generates exactly what the local directory generates.
const FILES = ['config.json', 'model.safetensors', 'tokenizer/config.json', 'tokenizer/model.safetensors'];
let root: string;
let tiny: TinyModel;
let server: Server;
const requested: string[] = [];
const saved = { hub: process.env['BIGR_HUB_URL'], cache: process.env['BIGR_CACHE'] };

function serve(req: IncomingMessage, res: ServerResponse): void {
  const path = new URL(required(req.url, 'request URL'), 'http://127.0.0.1').pathname;
  requested.push(path);
  const [, file = ''] = /^\/bigr\/tiny\/resolve\/main\/(.+)$/.exec(path) ?? [];
  if (!FILES.includes(file)) return void res.writeHead(404, { 'content-type': 'text/plain' }).end('Entry not found');
  const data = readFileSync(join(tiny.modelDir, file));
  res.writeHead(200, { 'content-length': data.length, etag: `"${createHash('sha1').update(data).digest('hex')}"` }).end(data);
}

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'bigr-genhub-'));
  tiny = await writeTinyModel(join(root, 'm'));
  server = createServer(serve);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  process.env['BIGR_HUB_URL'] = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  process.env['BIGR_CACHE'] = join(root, 'cache');
});

afterAll(async () => {
  for (const [k, v] of [
    ['BIGR_HUB_URL', saved.hub],
    ['BIGR_CACHE', saved.cache],
  ] as const) {
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  }
  await new Promise<void>((r) => server.close(() => r()));
  await rm(root, { recursive: true, force: true });
});

describe('bigr generate --model <Hub repo id>', () => {
  it('downloads the model into the cache and writes the images of the local directory', async () => {
    const args = ['--quiet', 'generate', '--n', '2', '--seed', '3', '--iterations', '2', '--diffusion-steps', '2'];
    const hub = await runCli([...args, '--model', 'bigr/tiny', '--out', join(root, 'hub.png')]);
    expect(hub.code).toBe(0);
    const local = await runCli([...args, '--model', tiny.modelDir, '--out', join(root, 'local.png')]);
    expect(local.code).toBe(0);
    expect((await readFile(join(root, 'hub.png'))).equals(await readFile(join(root, 'local.png')))).toBe(true);
    expect(requested.filter((p) => p.startsWith('/bigr/tiny/resolve/main/')).length).toBeGreaterThanOrEqual(FILES.length);
  });

  it('a repo the server does not have is a not-found error naming it', async () => {
    const r = await runCli(['--json', '--quiet', 'generate', '--n', '1', '--model', 'bigr/absent', '--out', join(root, 'x.png')]);
    expect(r.code).not.toBe(0);
    expect((JSON.parse(r.stdout) as { error: string }).error).toMatch(/bigr\/absent/);
  });
});
