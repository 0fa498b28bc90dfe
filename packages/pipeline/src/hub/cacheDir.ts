import { homedir } from 'node:os';
import { isAbsolute, join, resolve, sep } from 'node:path';
import { ConfigError } from '@bigr/core';

/** Environment variable naming the cache directory (downloads, imported checkpoints, evaluation statistics). */
export const BIGR_CACHE_ENV = 'BIGR_CACHE';

/**
 * The BiGR cache directory: `$BIGR_CACHE`, else the user's cache directory — `$XDG_CACHE_HOME/bigr` or
 * `~/.cache/bigr` on Linux, `~/Library/Caches/bigr` on macOS, `%LOCALAPPDATA%\bigr\Cache` on Windows. Never inside
 * a package's folder (so nothing is written into node_modules); a `$BIGR_CACHE` inside node_modules is refused.
 */
export function bigrCacheDir(env: Readonly<Record<string, string | undefined>> = process.env, platform: NodeJS.Platform = process.platform): string {
  const explicit = env[BIGR_CACHE_ENV];
  if (explicit !== undefined && explicit !== '') {
    const dir = resolve(explicit);
    if (dir.split(sep).includes('node_modules')) {
      throw new ConfigError(
        `${BIGR_CACHE_ENV} is ${explicit}, inside node_modules; package managers delete and replace that folder. ` +
          `Point ${BIGR_CACHE_ENV} at a directory of your own (e.g. ~/.cache/bigr).`,
      );
    }
    return dir;
  }
  const home = env['HOME'] || env['USERPROFILE'] || homedir();
  if (platform === 'darwin') return join(home, 'Library', 'Caches', 'bigr');
  if (platform === 'win32') return join(env['LOCALAPPDATA'] || join(home, 'AppData', 'Local'), 'bigr', 'Cache');
  const xdg = env['XDG_CACHE_HOME'];
  return join(xdg && isAbsolute(xdg) ? xdg : join(home, '.cache'), 'bigr');
}
