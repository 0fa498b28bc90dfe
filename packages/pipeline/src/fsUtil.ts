import { access } from 'node:fs/promises';

/** True when `path` exists (anything `access` can reach: file, directory or a link to one). */
export async function exists(path: string): Promise<boolean> {
  try {
    await access(path);
    return true;
  } catch {
    return false;
  }
}
