import { readFile, stat } from 'node:fs/promises';
import { ConfigError, NotFoundError, parseJsonBounded } from '@bigr/core';

/** Largest accepted --config file (bytes). */
const MAX_CONFIG_FILE_BYTES = 1024 * 1024;

/** A flat JSON-compatible configuration of one command. */
export type CommandConfig = Record<string, string | number | boolean | null | readonly (string | number)[]>;

/**
 * Resolves a command's configuration: defaults, then a named preset, then a JSON config file, then
 * flags (highest precedence). Unknown keys anywhere are rejected with the list of valid ones.
 */
export async function resolveConfig<C extends CommandConfig>(options: {
  command: string;
  defaults: C;
  presets?: Readonly<Record<string, Partial<C>>>;
  preset?: string;
  configFile?: string;
  flags: Partial<C>;
}): Promise<C> {
  const valid = Object.keys(options.defaults);
  const check = (obj: Record<string, unknown>, source: string): void => {
    for (const key of Object.keys(obj)) {
      if (!valid.includes(key)) {
        throw new ConfigError(`Unknown key "${key}" in ${source} for \`bigr ${options.command}\`. Valid keys: ${valid.join(', ')}.`);
      }
      const want = typeof options.defaults[key];
      const got = typeof obj[key];
      if (options.defaults[key] !== null && obj[key] !== null && want !== got && !(Array.isArray(options.defaults[key]) && Array.isArray(obj[key]))) {
        throw new ConfigError(`Key "${key}" in ${source} is a ${got} (${JSON.stringify(obj[key])}) but must be a ${want}. Fix the value in ${source}.`);
      }
    }
  };
  let merged: C = { ...options.defaults };
  if (options.preset !== undefined) {
    const p = options.presets?.[options.preset];
    if (!p) throw new ConfigError(`Unknown preset "${options.preset}". Available: ${Object.keys(options.presets ?? {}).join(', ') || 'none'}.`);
    merged = { ...merged, ...p };
  }
  if (options.configFile !== undefined) {
    let text: string;
    try {
      if ((await stat(options.configFile)).size > MAX_CONFIG_FILE_BYTES) {
        throw new ConfigError(
          `Config file ${options.configFile} is larger than ${MAX_CONFIG_FILE_BYTES} bytes; a settings file is a small JSON object. Check the --config path.`,
        );
      }
      text = await readFile(options.configFile, 'utf8');
    } catch (err) {
      if (err instanceof ConfigError) throw err;
      throw new NotFoundError(`Config file ${options.configFile} cannot be read. Check the --config path.`);
    }
    let parsed: unknown;
    try {
      // A command's settings are flat (a few arrays at most); deeper nesting is refused before anything walks it.
      parsed = parseJsonBounded(text, { source: `Config file ${options.configFile}`, maxDepth: 8 });
    } catch (err) {
      throw new ConfigError(`${(err as Error).message} Fix the syntax.`, { cause: err });
    }
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
      throw new ConfigError(`Config file ${options.configFile} must contain a JSON object of settings.`);
    }
    check(parsed as Record<string, unknown>, options.configFile);
    merged = { ...merged, ...(parsed as Partial<C>) };
  }
  const flags = Object.fromEntries(Object.entries(options.flags).filter(([, v]) => v !== undefined));
  check(flags, 'the command-line flags');
  return { ...merged, ...flags } as C;
}
