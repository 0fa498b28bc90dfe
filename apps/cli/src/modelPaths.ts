import { stat } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import { NotFoundError } from '@bigr/core';
import { parseHubRepo, resolveModelSource } from '@bigr/pipeline';

/** Directory of the bundled default model (Fashion-MNIST), shipped inside the CLI package. */
export function bundledModelDir(): string {
  return join(dirname(fileURLToPath(import.meta.url)), '..', 'models', 'fashion-mnist');
}

/**
 * The model directory to use: `--model` (a directory, a Hugging Face Hub repo id `owner/name[@revision]` downloaded
 * into the cache — `BIGR_CACHE`, `BIGR_HUB_URL`, `BIGR_OFFLINE` apply — or `<bigr.pt>+<binaryae.th>` imported into
 * the cache) or the bundled Fashion-MNIST model (with a clear error when it is absent).
 */
export async function modelDirectory(flag: string): Promise<string> {
  const dir = flag || bundledModelDir();
  try {
    await stat(join(dir, 'config.json'));
    return dir;
  } catch {
    if (!flag) throw new NotFoundError(`The bundled model is not installed at ${dir}. Pass --model <dir> (a directory written by \`bigr train\`).`);
  }
  if (flag.startsWith('.') || flag.startsWith('/') || (parseHubRepo(flag) === null && !flag.includes('+'))) {
    throw new NotFoundError(
      `Model directory ${dir} has no config.json. Pass a directory written by \`bigr train\` (or a tokenizer directory for encode/decode/hash/search), ` +
        `or a Hub repo id owner/name[@revision].`,
    );
  }
  return (await resolveModelSource(flag)).dir;
}
