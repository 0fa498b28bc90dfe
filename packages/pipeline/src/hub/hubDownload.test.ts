/**
 * The Hub loader against a real HTTP server on 127.0.0.1 started here, serving a repository in the Hub's layout
 * (`/<owner>/<name>/resolve/<revision>/<file>`; LFS files answered with a redirect carrying X-Linked-Size and
 * X-Linked-Etag, then served with Range support). No other host is ever contacted.
 */
import '@bigr/engine-onnx';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { AbortError, ConfigError, FormatError, getOrThrow, NetworkError, NotFoundError, required, resolveEngine, type ProgressEvent } from '@bigr/core';
import { BigrPipeline } from '../bigrPipeline.js';
import { TokenizerPipeline } from '../tokenizerPipeline.js';
import { bigrCacheDir } from './cacheDir.js';
import { hubFile, hubSnapshotDir, parseHubRepo } from './hubDownload.js';
import { exportPytorch, PYTORCH_BAE_FILE, PYTORCH_BIGR_FILE } from '../export/pytorchExport.js';

const here = dirname(fileURLToPath(import.meta.url));
const MODEL = join(here, '..', '..', '..', '..', 'apps', 'cli', 'models', 'fashion-mnist');
const FILES = ['config.json', 'model.safetensors', 'tokenizer/config.json', 'tokenizer/model.safetensors'];
const LFS = new Set(['model.safetensors', 'tokenizer/model.safetensors']);

interface Behaviour {
  /** Drop the connection after this many bytes on the first GET of each LFS blob. */
  dropAfter?: number;
  /** Announce a wrong SHA-256 for this file. */
  wrongHash?: string;
  /** Ignore Range requests (answer 200 with the whole file). */
  ignoreRange?: boolean;
}

let server: Server;
let base: string;
let dir: string;
const requests: { path: string; range: string | undefined }[] = [];
const behaviour: Behaviour = {};
const dropped = new Set<string>();
const content = new Map<string, Buffer>(FILES.map((f) => [f, readFileSync(join(MODEL, f))]));
const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');
/** The bytes the server holds for `file`. */
const served = (file: string): Buffer => getOrThrow(content, file, 'served file');
const blobs = new Map<string, Buffer>([...content].filter(([f]) => LFS.has(f)).map(([, b]) => [sha(b), b]));

function serve(req: IncomingMessage, res: ServerResponse): void {
  const url = new URL(required(req.url, 'request URL'), base);
  requests.push({ path: url.pathname, range: req.headers.range });
  const [, lfs] = /^\/lfs\/([0-9a-f]{64})$/.exec(url.pathname) ?? [];
  if (lfs !== undefined) {
    const blob = blobs.get(lfs);
    if (!blob) return void res.writeHead(404).end();
    let start = 0;
    const range = /^bytes=(\d+)-$/.exec(req.headers.range ?? '');
    if (range && !behaviour.ignoreRange) start = Number(range[1]);
    const body = blob.subarray(start);
    const headers: Record<string, string | number> = { 'content-length': body.length, etag: `"${lfs}"`, 'accept-ranges': 'bytes' };
    if (start > 0) headers['content-range'] = `bytes ${start}-${blob.length - 1}/${blob.length}`;
    res.writeHead(start > 0 ? 206 : 200, headers);
    if (behaviour.dropAfter !== undefined && !dropped.has(lfs) && body.length > behaviour.dropAfter) {
      dropped.add(lfs);
      // Cut the connection once the first bytes had time to reach the client's file.
      res.write(body.subarray(0, behaviour.dropAfter), () => setTimeout(() => res.socket?.destroy(), 300));
      return;
    }
    return void res.end(body);
  }
  const [, owner, repo = '', revision = '', filePath = ''] = /^\/([^/]+)\/([^/]+)\/resolve\/([^/]+)\/(.+)$/.exec(url.pathname) ?? [];
  if (owner !== 'bigr' || !['fmnist', 'fmnist-bad'].includes(repo) || !['main', 'v1'].includes(decodeURIComponent(revision))) {
    return void res.writeHead(404, { 'content-type': 'text/plain' }).end('Repository not found');
  }
  const file = filePath.split('/').map(decodeURIComponent).join('/');
  const data = content.get(file);
  if (!data) return void res.writeHead(404).end('Entry not found');
  if (LFS.has(file)) {
    const h = repo === 'fmnist-bad' && behaviour.wrongHash === file ? '0'.repeat(64) : sha(data);
    // Relative redirect, as the Hub does for LFS files served from its own storage.
    return void res
      .writeHead(302, { location: `/lfs/${sha(data)}`, 'x-linked-size': data.length, 'x-linked-etag': `"${h}"`, 'x-repo-commit': 'a'.repeat(40) })
      .end();
  }
  res.writeHead(200, { 'content-length': data.length, etag: `"${createHash('sha1').update(data).digest('hex')}"` }).end(data);
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'bigr-hub-'));
  server = createServer(serve);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await new Promise<void>((r) => server.close(() => r()));
  await rm(dir, { recursive: true, force: true });
});
beforeEach(() => {
  requests.length = 0;
  for (const k of Object.keys(behaviour)) delete behaviour[k as keyof Behaviour];
  dropped.clear();
});

let n = 0;
const freshCache = (): string => join(dir, `cache-${n++}`);

describe('Hub repo ids and the cache directory', () => {
  it('parses owner/name[@revision] and refuses paths', () => {
    expect(parseHubRepo('bigr/fmnist')).toEqual({ owner: 'bigr', name: 'fmnist', revision: 'main' });
    expect(parseHubRepo('hf://bigr/fmnist@v1.0')).toEqual({ owner: 'bigr', name: 'fmnist', revision: 'v1.0' });
    expect(parseHubRepo('a/b/c')).toBeNull();
    expect(parseHubRepo('../x')).toBeNull();
    expect(parseHubRepo('a/..')).toBeNull();
  });

  it('defaults to the user cache, never inside node_modules', () => {
    expect(bigrCacheDir({ HOME: '/home/u' }, 'linux')).toBe('/home/u/.cache/bigr');
    expect(bigrCacheDir({ HOME: '/home/u', XDG_CACHE_HOME: '/var/c' }, 'linux')).toBe('/var/c/bigr');
    expect(bigrCacheDir({ HOME: '/Users/u' }, 'darwin')).toBe('/Users/u/Library/Caches/bigr');
    expect(bigrCacheDir({ BIGR_CACHE: '/tmp/bc' }, 'linux')).toBe('/tmp/bc');
    expect(() => bigrCacheDir({ BIGR_CACHE: '/app/node_modules/@bigr/eval/cache' }, 'linux')).toThrow(ConfigError);
  });

  it('refuses a plain-http Hub URL that is not this machine', async () => {
    await expect(hubFile({ owner: 'a', name: 'b', revision: 'main' }, 'config.json', { hubUrl: 'http://example.com', cacheDir: freshCache() })).rejects.toThrow(
      /must use https/,
    );
  });
});

describe('loading a model by name from a local Hub server', () => {
  it('downloads through redirects, resumes a dropped connection, verifies size and SHA-256, reports progress, then works offline', async () => {
    const cacheDir = freshCache();
    behaviour.dropAfter = 100_000;
    const events: ProgressEvent[] = [];
    const engine = await resolveEngine({ purpose: 'inference', device: 'onnx-cpu' });
    const bigr = await BigrPipeline.load('bigr/fmnist', { hubUrl: base, cacheDir, engine, onProgress: (e) => events.push(e) });
    const snapshot = hubSnapshotDir(cacheDir, { owner: 'bigr', name: 'fmnist', revision: 'main' });
    expect(bigr.dir).toBe(snapshot);
    for (const f of FILES) expect((await readFile(join(snapshot, f))).equals(served(f))).toBe(true);
    expect(existsSync(join(snapshot, 'model.safetensors.incomplete'))).toBe(false);
    // Each LFS blob was cut once (after at most 100,000 bytes) and resumed with a Range request from what arrived.
    const resumed = requests.flatMap((r) => (r.path.startsWith('/lfs/') && r.range !== undefined ? [Number(/^bytes=(\d+)-$/.exec(r.range)?.[1])] : []));
    expect(resumed).toHaveLength(2);
    for (const at of resumed) expect(at > 0 && at <= 100_000).toBe(true);
    const downloads = events.filter((e) => e.task === 'download' && e.message === 'model.safetensors');
    const lastDownload = required(downloads.at(-1), 'last download event');
    expect(lastDownload.current).toBe(served('model.safetensors').length);
    expect(lastDownload.total).toBe(served('model.safetensors').length);
    const g = await bigr.generate({ classes: 'bag', seeds: [5], iterations: 2, diffusionSteps: 3 });
    expect(g.images.shape).toEqual([1, 1, 28, 28]);
    await bigr.dispose();

    // Cached: no request at all, also offline.
    requests.length = 0;
    const again = await TokenizerPipeline.load('bigr/fmnist', { hubUrl: base, cacheDir, engine, offline: true });
    expect(requests).toHaveLength(0);
    expect(again.hash).toBe(sha(served('tokenizer/model.safetensors')));
    await again.dispose();
  });

  it('offline with an empty cache names the missing file and never connects', async () => {
    const cacheDir = freshCache();
    await expect(BigrPipeline.load('bigr/fmnist@v1', { hubUrl: base, cacheDir, offline: true })).rejects.toThrow(NotFoundError);
    await expect(BigrPipeline.load('bigr/fmnist@v1', { hubUrl: base, cacheDir, offline: true })).rejects.toThrow(/not in the cache .*offline mode is on/);
    expect(requests).toHaveLength(0);
  });

  it('a 404 (unknown repo or revision) is a NotFoundError naming the URL', async () => {
    const cacheDir = freshCache();
    await expect(BigrPipeline.load('bigr/nothing', { hubUrl: base, cacheDir })).rejects.toThrow(NotFoundError);
    await expect(BigrPipeline.load('bigr/fmnist@nope', { hubUrl: base, cacheDir })).rejects.toThrow(/resolve\/nope\/config\.json was not found \(HTTP 404\)/);
  });

  it('a wrong SHA-256 is refused and the download deleted', async () => {
    const cacheDir = freshCache();
    behaviour.wrongHash = 'tokenizer/model.safetensors';
    const err = await BigrPipeline.load('bigr/fmnist-bad', { hubUrl: base, cacheDir }).catch((e: unknown) => e as Error);
    expect(err).toBeInstanceOf(FormatError);
    expect((err as Error).message).toMatch(/SHA-256 [0-9a-f]{64} does not match the 0{64} the Hub announced/);
    const snapshot = hubSnapshotDir(cacheDir, { owner: 'bigr', name: 'fmnist-bad', revision: 'main' });
    expect(existsSync(join(snapshot, 'tokenizer', 'model.safetensors'))).toBe(false);
    expect(existsSync(join(snapshot, 'tokenizer', 'model.safetensors.incomplete'))).toBe(false);
    // The files verified before stay cached.
    expect(existsSync(join(snapshot, 'model.safetensors'))).toBe(true);
  });

  it('a server ignoring Range restarts the file; a server that is gone is a NetworkError', async () => {
    const cacheDir = freshCache();
    behaviour.dropAfter = 50_000;
    behaviour.ignoreRange = true;
    const path = await hubFile({ owner: 'bigr', name: 'fmnist', revision: 'main' }, 'model.safetensors', { hubUrl: base, cacheDir });
    expect((await readFile(path)).equals(served('model.safetensors'))).toBe(true);
    const closed = createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((r) => closed.close(() => r()));
    await expect(
      hubFile({ owner: 'bigr', name: 'fmnist', revision: 'main' }, 'config.json', { hubUrl: `http://127.0.0.1:${port}`, cacheDir: freshCache() }),
    ).rejects.toThrow(NetworkError);
  });

  it('stops on abort and keeps the partial file for the next load to resume', async () => {
    const cacheDir = freshCache();
    const ac = new AbortController();
    const p = hubFile({ owner: 'bigr', name: 'fmnist', revision: 'main' }, 'model.safetensors', {
      hubUrl: base,
      cacheDir,
      signal: ac.signal,
      onProgress: (e) => {
        if (e.current > 0) ac.abort(new Error('stop'));
      },
    });
    await expect(p).rejects.toThrow(AbortError);
    const snapshot = hubSnapshotDir(cacheDir, { owner: 'bigr', name: 'fmnist', revision: 'main' });
    const partial = join(snapshot, 'model.safetensors.incomplete');
    expect(existsSync(join(snapshot, 'model.safetensors'))).toBe(false);
    const kept = existsSync(partial) ? (await stat(partial)).size : 0;
    requests.length = 0;
    const path = await hubFile({ owner: 'bigr', name: 'fmnist', revision: 'main' }, 'model.safetensors', { hubUrl: base, cacheDir });
    expect((await readFile(path)).equals(served('model.safetensors'))).toBe(true);
    if (kept > 0) expect(requests.some((r) => r.range === `bytes=${kept}-`)).toBe(true);
  });
});

describe('loading an official checkpoint pair', () => {
  it('imports .pt/.th on the fly into the cache once, then reuses it', async () => {
    const cacheDir = freshCache();
    const pt = join(dir, 'official');
    await exportPytorch(MODEL, pt);
    const engine = await resolveEngine({ purpose: 'inference', device: 'onnx-cpu' });
    const files = { bigr: join(pt, PYTORCH_BIGR_FILE), bae: join(pt, PYTORCH_BAE_FILE) };
    const a = await BigrPipeline.load(files, { cacheDir, engine });
    expect(a.dir.startsWith(join(cacheDir, 'imported'))).toBe(true);
    expect(a.classNames).toContain('Sneaker');
    const b = await BigrPipeline.load(`${files.bigr}+${files.bae}`, { cacheDir, engine });
    expect(b.dir).toBe(a.dir);
    const ga = await a.generate({ classes: 'sneaker', seeds: [2], iterations: 2, diffusionSteps: 3 });
    const direct = await BigrPipeline.load(MODEL, { engine });
    const gd = await direct.generate({ classes: 'sneaker', seeds: [2], iterations: 2, diffusionSteps: 3 });
    expect(Array.from(ga.codes.data)).toEqual(Array.from(gd.codes.data));
    await writeFile(join(dir, 'touched'), '');
    for (const p of [a, b, direct]) await p.dispose();
  });
});
