/**
 * Output safety for every command that writes files: sidecar names that cannot collide with other files, and the
 * checks run before any work starts (never write over an input, respect read-only files, refuse to replace a file
 * this command did not write for this output unless --force).
 */
import { readFile, realpath, stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import { ConfigError, parseJsonBounded } from '@bigr/core';
import { imageFormatOf } from '@bigr/pipeline';

/** Commands whose outputs (other than `.bigr` codes) are images. */
const IMAGE_COMMANDS = new Set(['generate', 'decode', 'inpaint', 'outpaint', 'edit', 'interpolate', 'enrich']);

/** Largest sidecar/result JSON read while deciding who wrote a file (bytes). */
const MAX_OWNER_JSON_BYTES = 64 * 1024 * 1024;

/**
 * Path of the JSON sidecar of an output: the full output name plus `.json` (`grid.png` → `grid.png.json`,
 * `index.bhx` → `index.bhx.json`), so two outputs (or an output and an input) never share a sidecar.
 */
export function sidecarPath(outputPath: string): string {
  return `${outputPath}.json`;
}

/** The sidecar name used before 0.2 (`grid.png` → `grid.json`); read only, for indexes written by older versions. */
export function legacySidecarPath(outputPath: string): string {
  return `${outputPath.replace(/\.[a-z0-9]+$/i, '')}.json`;
}

async function statOrNull(path: string): Promise<Awaited<ReturnType<typeof stat>> | null> {
  try {
    return await stat(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return null;
    throw err;
  }
}

async function readJsonObject(path: string): Promise<Record<string, unknown> | null> {
  try {
    const s = await stat(path);
    if (!s.isFile() || s.size > MAX_OWNER_JSON_BYTES) return null;
    const value = parseJsonBounded(await readFile(path, 'utf8'), { source: path });
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

async function canonical(path: string): Promise<string> {
  try {
    return await realpath(path);
  } catch {
    return resolve(path);
  }
}

/**
 * True when `path` was written by `bigr <command>` as (part of) this output: either its sidecar `<path>.json`
 * names this command and this output, or `path` is itself a JSON file of this command (a sidecar or a results
 * file) that names `output`, or has no `output` field and is the command's own result.
 */
export async function writtenByCommand(path: string, command: string, output = path): Promise<boolean> {
  const target = resolve(output);
  const side = await readJsonObject(sidecarPath(path));
  if (side && side['command'] === command && typeof side['output'] === 'string' && resolve(side['output']) === target) return true;
  if (resolve(path) !== target) {
    // A further file of a multi-file output (e.g. `features --layer all`): the output's sidecar lists it.
    const main = await readJsonObject(sidecarPath(output));
    const files = main && main['command'] === command && Array.isArray(main['files']) ? (main['files'] as unknown[]) : [];
    if (
      files.some(
        (f) =>
          typeof f === 'object' && f !== null && typeof (f as { path?: unknown }).path === 'string' && resolve((f as { path: string }).path) === resolve(path),
      )
    )
      return true;
  }
  if (/\.json$/i.test(path)) {
    const own = await readJsonObject(path);
    if (own && own['command'] === command) {
      if (typeof own['output'] === 'string') return resolve(own['output']) === target;
      return true;
    }
  }
  return false;
}

/** One file a command is about to write. */
export interface PlannedOutput {
  /** Path of the file. */
  readonly path: string;
  /** The main output this file belongs to (a sidecar names its output); defaults to `path`. */
  readonly output?: string;
  /** The command reads and extends this file in place (e.g. `bigr hash --index`), so it may already exist. */
  readonly appends?: boolean;
}

/** What {@link checkOutputs} needs. */
export interface OutputCheckOptions {
  /** The command name (`generate`, `encode`, ...), as recorded in sidecars. */
  readonly command: string;
  /** Every file the command will write. */
  readonly outputs: readonly (string | PlannedOutput)[];
  /** Every file the command reads (config file, images, codes, model files); undefined entries are ignored. */
  readonly inputs?: readonly (string | undefined)[];
  /** --force: replace existing files this command did not write. Inputs and read-only files are never replaced. */
  readonly force: boolean;
}

/**
 * Checks, before any work, that writing `outputs` loses nothing: no output is one of the inputs (or another
 * output), no output is a directory or a read-only file, and an existing file is replaced only when this command
 * wrote it for this output (its sidecar says so) or `force` is set. Throws {@link ConfigError} naming the file and
 * the way out.
 */
export async function checkOutputs(options: OutputCheckOptions): Promise<void> {
  const inputs = new Map<string, string>();
  for (const i of options.inputs ?? []) if (i !== undefined && i !== '') inputs.set(await canonical(i), i);
  const seen = new Map<string, string>();
  for (const o of options.outputs) {
    const planned: PlannedOutput = typeof o === 'string' ? { path: o } : o;
    const path = planned.path;
    const key = await canonical(path);
    const other = seen.get(key);
    if (other !== undefined)
      throw new ConfigError(
        `\`bigr ${options.command}\` would write ${path} twice (also as ${other}). Choose an --out whose sidecar (<out>.json) is not another output.`,
      );
    seen.set(key, path);
    const input = inputs.get(key);
    if (input !== undefined && !planned.appends) {
      throw new ConfigError(
        `\`bigr ${options.command}\` would overwrite its input ${input} with ${path}. ` +
          `Choose another --out; inputs are never overwritten (not even with --force).`,
      );
    }
    const s = await statOrNull(path);
    if (s === null) continue;
    if (s.isDirectory()) throw new ConfigError(`${path} is a directory; \`bigr ${options.command}\` writes a file there. Choose another --out.`);
    if ((Number(s.mode) & 0o222) === 0) {
      throw new ConfigError(
        `${path} is read-only (mode ${(Number(s.mode) & 0o777).toString(8)}); \`bigr ${options.command}\` will not replace it. ` +
          `Make it writable (chmod u+w ${path}) or choose another --out.`,
      );
    }
    if (planned.appends) continue;
    if (options.force) continue;
    if (await writtenByCommand(path, options.command, planned.output ?? path)) continue;
    throw new ConfigError(
      `${path} already exists and was not written by \`bigr ${options.command}\` for this output. Choose another --out, or pass --force to replace it.`,
    );
  }
}

/** The files of a model directory a command reads (so no output may replace them). */
export function modelInputFiles(dir: string): string[] {
  return ['config.json', 'model.safetensors', 'tokenizer/config.json', 'tokenizer/model.safetensors'].map((f) => `${dir.replace(/\/+$/, '')}/${f}`);
}

/**
 * {@link checkOutputs} for a command writing image/codes outputs each with a sidecar: every `outputs` entry plus
 * its `<out>.json`, against `inputs`, with the context's --force.
 */
export async function guardOutputsWithSidecars(
  command: string,
  force: boolean,
  outputs: readonly string[],
  inputs: readonly (string | undefined)[],
): Promise<void> {
  await checkOutputs({
    command,
    force,
    inputs,
    outputs: outputs.flatMap((o) => [{ path: o }, { path: sidecarPath(o), output: o }]),
  });
  // Image outputs are written in the format their extension names (PNG or JPEG); anything else is refused here,
  // before any work, instead of PNG bytes under a .webp/.gif name.
  if (IMAGE_COMMANDS.has(command)) for (const o of outputs) if (!o.toLowerCase().endsWith('.bigr')) imageFormatOf(o);
}
