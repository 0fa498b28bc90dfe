/**
 * Downloading files of a Hugging Face Hub repository (`<hub>/<owner>/<name>/resolve/<revision>/<file>`) into the
 * cache: redirects followed by hand (the Hub answers LFS files with a redirect whose `X-Linked-Size` and
 * `X-Linked-Etag` headers give the size and SHA-256), resumable `.incomplete` files continued with `Range` requests
 * after a dropped connection, size and SHA-256 checks, progress events, AbortSignal, and an offline mode that never
 * touches the network.
 */
import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, rename, rm, stat, truncate } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { AbortError, ConfigError, FormatError, NetworkError, NotFoundError, throwIfAborted, type LongRunningOptions } from '@bigr/core';
import { bigrCacheDir } from './cacheDir.js';

/** Default Hub endpoint. */
export const DEFAULT_HUB_URL = 'https://huggingface.co';

/** Options of Hub downloads. */
export interface HubOptions extends LongRunningOptions {
  /** Hub endpoint. Default `$BIGR_HUB_URL`, then `$HF_ENDPOINT`, then https://huggingface.co. */
  readonly hubUrl?: string;
  /** Cache directory. Default {@link bigrCacheDir}. */
  readonly cacheDir?: string;
  /** Never use the network; only cached files. Default: `$BIGR_OFFLINE` or `$HF_HUB_OFFLINE` set to 1/true. */
  readonly offline?: boolean;
  /** Bearer token for private repositories (sent to the Hub's own host only). Default `$HF_TOKEN`. */
  readonly token?: string;
  /** Attempts per file when the connection drops (each resumes where the last stopped). Default 4. */
  readonly attempts?: number;
  /** Download again even when the file is cached. Default false. */
  readonly refresh?: boolean;
  /** Largest accepted file. Default 64 GiB. */
  readonly maxFileBytes?: number;
}

/** A Hub repository at a revision. */
export interface HubRepo {
  readonly owner: string;
  readonly name: string;
  /** Branch, tag or commit. Default 'main'. */
  readonly revision: string;
}

const REPO_RE = /^([A-Za-z0-9][A-Za-z0-9_.-]{0,95})\/([A-Za-z0-9][A-Za-z0-9_.-]{0,95})(?:@([A-Za-z0-9][A-Za-z0-9_./-]{0,255}))?$/;

/** Parses `owner/name[@revision]` (optionally prefixed `hf://` or `hub:`); null when `source` is not of that form. */
export function parseHubRepo(source: string): HubRepo | null {
  const s = source.replace(/^(hf:\/\/|hub:)/, '');
  const [, owner, name, revision = 'main'] = REPO_RE.exec(s) ?? [];
  if (owner === undefined || name === undefined || owner.includes('..') || name.includes('..') || revision.includes('..')) return null;
  return { owner, name, revision };
}

/** `owner/name@revision`. */
export function hubRepoId(repo: HubRepo): string {
  return `${repo.owner}/${repo.name}@${repo.revision}`;
}

function envFlag(v: string | undefined): boolean {
  return v !== undefined && ['1', 'true', 'yes', 'on'].includes(v.toLowerCase());
}

/** The effective Hub settings of `options` (environment defaults applied). */
export function hubSettings(options: HubOptions = {}): { hubUrl: string; cacheDir: string; offline: boolean; token: string | undefined } {
  const hubUrl = (options.hubUrl ?? process.env['BIGR_HUB_URL'] ?? process.env['HF_ENDPOINT'] ?? DEFAULT_HUB_URL).replace(/\/+$/, '');
  let parsed: URL;
  try {
    parsed = new URL(hubUrl);
  } catch {
    throw new ConfigError(`Hub URL "${hubUrl}" is not a URL; expected e.g. ${DEFAULT_HUB_URL} (set hubUrl, BIGR_HUB_URL or HF_ENDPOINT).`);
  }
  if (parsed.protocol !== 'https:' && !(parsed.protocol === 'http:' && ['127.0.0.1', 'localhost', '[::1]'].includes(parsed.hostname))) {
    throw new ConfigError(`Hub URL ${hubUrl} must use https (plain http only for a server on this machine: 127.0.0.1 or localhost).`);
  }
  return {
    hubUrl,
    cacheDir: options.cacheDir ?? bigrCacheDir(),
    offline: options.offline ?? (envFlag(process.env['BIGR_OFFLINE']) || envFlag(process.env['HF_HUB_OFFLINE'])),
    token: options.token ?? process.env['HF_TOKEN'],
  };
}

/** Cache directory of a repository revision: `<cache>/hub/models--<owner>--<name>/<revision>`. */
export function hubSnapshotDir(cacheDir: string, repo: HubRepo): string {
  return join(cacheDir, 'hub', `models--${repo.owner}--${repo.name}`, encodeURIComponent(repo.revision));
}

/** The resolve URL of a file. */
export function hubFileUrl(hubUrl: string, repo: HubRepo, file: string): string {
  return `${hubUrl}/${repo.owner}/${repo.name}/resolve/${encodeURIComponent(repo.revision)}/${file.split('/').map(encodeURIComponent).join('/')}`;
}

function checkFileName(file: string): void {
  if (file === '' || file.startsWith('/') || file.includes('\\') || file.split('/').some((p) => p === '' || p === '.' || p === '..')) {
    throw new ConfigError(`Hub file name "${file}" must be a relative path inside the repository (e.g. "tokenizer/config.json").`);
  }
}

interface Fetched {
  readonly response: Response;
  readonly url: string;
  /** SHA-256 announced by the Hub (`X-Linked-Etag` of a redirect or a 64-hex ETag), if any. */
  readonly sha256: string | undefined;
  /** Size announced by the Hub (`X-Linked-Size`), if any. */
  readonly size: number | undefined;
}

function sha256Of(etag: string | null): string | undefined {
  const v = etag?.replace(/^W\//, '').replace(/"/g, '').trim().toLowerCase();
  return v && /^[0-9a-f]{64}$/.test(v) ? v : undefined;
}

/** GET with redirects followed by hand (at most 10), collecting the Hub's size and hash headers on the way. */
async function hubGet(url: string, headers: Record<string, string>, token: string | undefined, signal: AbortSignal | undefined): Promise<Fetched> {
  const origin = new URL(url).origin;
  let current = url;
  let sha256: string | undefined;
  let size: number | undefined;
  for (let hop = 0; hop <= 10; hop++) {
    const h: Record<string, string> = { ...headers, 'user-agent': 'bigr-pipeline' };
    if (token && new URL(current).origin === origin) h['authorization'] = `Bearer ${token}`;
    let response: Response;
    try {
      response = await fetch(current, { headers: h, redirect: 'manual', ...(signal ? { signal } : {}) });
    } catch (err) {
      if (signal?.aborted) throw new AbortError('The download was aborted.');
      throw new NetworkError(
        `Could not reach ${current} (${(err as Error).cause instanceof Error ? ((err as Error).cause as Error).message : (err as Error).message}). ` +
          `Check the network or the Hub URL, or load offline from the cache (offline: true / BIGR_OFFLINE=1).`,
        { cause: err },
      );
    }
    sha256 ??= sha256Of(response.headers.get('x-linked-etag'));
    const linked = Number(response.headers.get('x-linked-size'));
    if (size === undefined && Number.isSafeInteger(linked) && linked >= 0 && response.headers.get('x-linked-size') !== null) size = linked;
    const location = response.headers.get('location');
    if (response.status >= 300 && response.status < 400 && location) {
      await response.body?.cancel();
      current = new URL(location, current).toString();
      continue;
    }
    sha256 ??= sha256Of(response.headers.get('etag'));
    return { response, url: current, sha256, size };
  }
  throw new NetworkError(`${url} redirected more than 10 times; the Hub URL or the repository is misconfigured.`);
}

async function fileSize(path: string): Promise<number> {
  try {
    return (await stat(path)).size;
  } catch {
    return 0;
  }
}

async function sha256OfPath(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/**
 * One file of a Hub repository as a local path in the cache, downloading it when missing (or with `refresh`).
 * Throws NotFoundError for a 404 (or a file missing offline), FormatError for a size or SHA-256 mismatch (the partial
 * file is deleted), NetworkError when the connection keeps dropping, AbortError on abort.
 */
export async function hubFile(repo: HubRepo, file: string, options: HubOptions = {}): Promise<string> {
  checkFileName(file);
  const { hubUrl, cacheDir, offline, token } = hubSettings(options);
  const dest = join(hubSnapshotDir(cacheDir, repo), ...file.split('/'));
  if (!options.refresh) {
    try {
      if ((await stat(dest)).isFile()) return dest;
    } catch {
      // not cached
    }
  }
  const url = hubFileUrl(hubUrl, repo, file);
  if (offline)
    throw new NotFoundError(
      `${file} of ${hubRepoId(repo)} is not in the cache (${dest}) and offline mode is on. Load it once online (without offline / BIGR_OFFLINE) to cache it.`,
    );
  await mkdir(dirname(dest), { recursive: true });
  const partial = `${dest}.incomplete`;
  const attempts = Math.max(1, options.attempts ?? 4);
  const maxBytes = options.maxFileBytes ?? 64 * 1024 ** 3;
  let lastError: unknown;
  for (let attempt = 0; attempt < attempts; attempt++) {
    throwIfAborted(options.signal, 'download');
    const have = await fileSize(partial);
    const { response, sha256, size } = await hubGet(url, have > 0 ? { range: `bytes=${have}-` } : {}, token, options.signal);
    if (response.status === 404) {
      await response.body?.cancel();
      throw new NotFoundError(
        `${url} was not found (HTTP 404): ${hubRepoId(repo)} has no file "${file}" (or the repository or revision does not exist). ` +
          `Check the repo id, the revision and that it is a BiGR model directory.`,
      );
    }
    if (response.status === 401 || response.status === 403) {
      await response.body?.cancel();
      throw new ConfigError(`${url} answered HTTP ${response.status}: the repository is private or gated. Pass token (or set HF_TOKEN) with read access.`);
    }
    if (response.status === 416 && have > 0) {
      // The partial file is already complete (or longer than the file): verify from scratch below / restart.
      await response.body?.cancel();
      if (size !== undefined && have === size) {
        await finish(partial, dest, size, sha256, url);
        return dest;
      }
      await rm(partial, { force: true });
      continue;
    }
    if (response.status !== 200 && response.status !== 206) {
      await response.body?.cancel();
      lastError = new NetworkError(`${url} answered HTTP ${response.status} ${response.statusText}; expected 200. Try again later.`);
      if (response.status >= 500) continue;
      throw lastError;
    }
    let start = 0;
    if (response.status === 206) {
      const m = /^bytes (\d+)-(\d+)\/(\d+|\*)$/.exec(response.headers.get('content-range') ?? '');
      start = m ? Number(m[1]) : -1;
      if (start !== have) {
        await response.body?.cancel();
        await rm(partial, { force: true });
        lastError = new NetworkError(
          `${url} answered a resume request for byte ${have} with ${response.headers.get('content-range') ?? 'no Content-Range'}; restarting the download.`,
        );
        continue;
      }
    } else if (have > 0) {
      await truncate(partial, 0); // the server ignored Range: start again
    }
    const length = Number(response.headers.get('content-length'));
    const total = size ?? (Number.isSafeInteger(length) && response.headers.get('content-length') !== null ? start + length : undefined);
    if (total !== undefined && total > maxBytes) {
      await response.body?.cancel();
      throw new FormatError(`${url} is ${total} bytes, more than the ${maxBytes}-byte limit (maxFileBytes). It is not a model file this loader accepts.`);
    }
    let received = start;
    options.onProgress?.({ task: 'download', current: received, total: total ?? received, message: file });
    try {
      if (!response.body) throw new NetworkError(`${url} answered without a body.`);
      const body = Readable.fromWeb(response.body as import('node:stream/web').ReadableStream<Uint8Array>);
      body.on('data', (chunk: Buffer) => {
        received += chunk.length;
        if (received > maxBytes) body.destroy(new FormatError(`${url} sent more than the ${maxBytes}-byte limit (maxFileBytes).`));
        options.onProgress?.({ task: 'download', current: received, total: Math.max(total ?? received, received), message: file });
      });
      await pipeline(body, createWriteStream(partial, { flags: start > 0 ? 'a' : 'w' }), ...(options.signal ? [{ signal: options.signal }] : []));
    } catch (err) {
      if (options.signal?.aborted) throw new AbortError(`The download of ${file} was aborted; ${partial} is kept and the next load resumes it.`);
      if (err instanceof FormatError) {
        await rm(partial, { force: true });
        throw err;
      }
      lastError = err;
      continue; // dropped connection: resume from what arrived
    }
    await finish(partial, dest, total, sha256, url);
    return dest;
  }
  const why = lastError instanceof Error ? lastError.message : String(lastError);
  throw new NetworkError(`Downloading ${url} failed ${attempts} times (last: ${why}). The partial file ${partial} is kept; load again to resume.`, {
    cause: lastError,
  });
}

/** Verifies size and SHA-256 of a finished partial file and moves it into place (deleting it on a mismatch). */
async function finish(partial: string, dest: string, size: number | undefined, sha256: string | undefined, url: string): Promise<void> {
  const got = await fileSize(partial);
  if (size !== undefined && got !== size) {
    await rm(partial, { force: true });
    throw new FormatError(`${url}: received ${got} bytes but the Hub announced ${size}; the partial file was deleted. Load again to download it anew.`);
  }
  if (sha256 !== undefined) {
    const actual = await sha256OfPath(partial);
    if (actual !== sha256) {
      await rm(partial, { force: true });
      throw new FormatError(
        `${url}: SHA-256 ${actual} does not match the ${sha256} the Hub announced; the download was deleted. ` +
          `Load again; if it persists the repository or a proxy is serving a corrupt file.`,
      );
    }
  }
  await rename(partial, dest);
}
