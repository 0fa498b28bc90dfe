import { join } from 'node:path';
import { NotFoundError, pathExists } from '@bigr/core';
import { FASHION_MNIST_PAD, loadIdxImageSet, loadImageFolder, type LabelledImages } from '@bigr/tokenizer';

/** Where Debian's dataset-fashion-mnist package puts the IDX files. */
export const DEBIAN_FASHION_MNIST = '/usr/share/datasets/fashion-mnist';

/**
 * Loads a training/test split. `source` is `fashion-mnist` (Debian's package), a directory of MNIST-style IDX
 * files, or an image folder with one sub-folder per class. IDX images (28×28) are zero-padded to 32×32.
 */
export async function loadDataset(
  source: string,
  split: 'train' | 'test',
  options: { limit?: number; imageSize?: number; channels?: 1 | 3 } = {},
): Promise<LabelledImages & { readonly pad: number }> {
  const dir = source === 'fashion-mnist' ? DEBIAN_FASHION_MNIST : source;
  if (!(await pathExists(dir))) {
    throw new NotFoundError(
      source === 'fashion-mnist'
        ? `Fashion-MNIST is not installed at ${DEBIAN_FASHION_MNIST}. Install it with \`apt-get install dataset-fashion-mnist\` or pass --data <dir>.`
        : `Dataset directory ${dir} does not exist. Pass --data fashion-mnist, an IDX directory or an image folder.`,
    );
  }
  const idxPrefix = split === 'test' ? 't10k' : 'train';
  if ((await pathExists(join(dir, `${idxPrefix}-images-idx3-ubyte.gz`))) || (await pathExists(join(dir, `${idxPrefix}-images-idx3-ubyte`)))) {
    const set = await loadIdxImageSet(dir, split, { pad: FASHION_MNIST_PAD, ...(options.limit !== undefined ? { limit: options.limit } : {}) });
    return { ...set, pad: FASHION_MNIST_PAD };
  }
  const folder = (await pathExists(join(dir, split))) ? join(dir, split) : dir;
  const set = await loadImageFolder(folder, {
    size: options.imageSize ?? 32,
    channels: options.channels ?? 3,
    ...(options.limit !== undefined ? { limit: options.limit } : {}),
  });
  return { ...set, pad: 0 };
}
