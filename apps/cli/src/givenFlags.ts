/**
 * The flags a command line gave a command, as commander typed them. Every option's parsing (numbers, choices) and its
 * default live on the commander option itself (helpPolish.ts), so `--help` shows them and a bad value is a usage error
 * naming the flag. A default is only shown and reported by commander, never taken from here: a command's settings are
 * resolved by `resolveConfig` (config.ts) as defaults ← `--config <file.json>` ← flags, so an option left at its
 * commander default must not override a value of the config file. {@link givenFlags} therefore keeps only the options
 * whose value source is the command line.
 */
import { ConfigError } from '@bigr/core';
import type { Command } from 'commander';
import type { CommandConfig } from './config.js';

/** What the command line gave one command. */
export interface GivenFlags<C extends CommandConfig> {
  /** `--config <file.json>`, when given. */
  readonly config?: string;
  /** The settings (keys of the command's defaults) passed as flags, with commander's typed values. */
  readonly settings: Partial<C>;
  /** Given options that are not settings (e.g. `--force-resume`), by attribute name. */
  readonly other: Readonly<Record<string, unknown>>;
}

/** `batchSize` → `--batch-size`. */
export function flagName(key: string): string {
  return `--${key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;
}

function kindOf(value: unknown): string {
  return Array.isArray(value) ? 'array' : value === null ? 'null' : typeof value;
}

const EXPECTED: Readonly<Record<string, string>> = { number: 'a number', boolean: 'a switch (no value)', string: 'a text value', array: 'a list' };

/**
 * The options of `cmd` given on the command line (value source `cli`; `env` and `implied` count as given too), split
 * into the settings of `defaults` and the rest. Options at their commander default, and options never set, are absent.
 * Throws ConfigError when a given setting does not have the type of its default (an option declared without its
 * parser), naming the flag, the value and the expected type.
 */
export function givenFlags<C extends CommandConfig>(cmd: Command, defaults: C): GivenFlags<C> {
  const settings: Record<string, unknown> = {};
  const other: Record<string, unknown> = {};
  let config: string | undefined;
  for (const [key, value] of Object.entries(cmd.opts())) {
    const source = cmd.getOptionValueSource(key);
    if (value === undefined || source === undefined || source === 'default') continue;
    if (key === 'config') {
      config = String(value);
      continue;
    }
    if (!Object.hasOwn(defaults, key)) {
      other[key] = value;
      continue;
    }
    const want = kindOf(defaults[key]);
    const got = kindOf(value);
    if (want !== 'null' && got !== want)
      throw new ConfigError(`${flagName(key)} must be ${EXPECTED[want] ?? want}, got ${JSON.stringify(value)}; default: ${JSON.stringify(defaults[key])}.`);
    settings[key] = value;
  }
  return { ...(config !== undefined ? { config } : {}), settings: settings as Partial<C>, other };
}
