import { readdir, stat } from 'node:fs/promises';
import { extname, join } from 'node:path';
import { ConfigError, CpuTensor, FormatError, NotFoundError, throwIfAborted, type LongRunningOptions } from '@bigr/core';
import type { LabelledImages } from './idxReader.js';
import { loadImage, type LoadImageOptions } from './imageIo.js';

/** One image file of an image folder and its class. */
export interface ImageFolderEntry {
  /** File path. */
  readonly path: string;
  /** Class index (position of the sub-folder in sorted order). */
  readonly label: number;
}

/** The files of an image folder. */
export interface ImageFolderListing {
  /** Files in class order, then file-name order. */
  readonly entries: readonly ImageFolderEntry[];
  /** Sub-folder names, sorted; index = label. */
  readonly classNames: readonly string[];
}

/** Extensions recognised as images (case-insensitive). */
export const IMAGE_EXTENSIONS = ['.png', '.jpg', '.jpeg'] as const;

/**
 * Lists `root/<class>/<image>` files like torchvision's ImageFolder: one class per sub-folder (sorted by name,
 * label = position), PNG/JPEG files inside each (sorted by name; hidden files skipped; not recursive).
 * Throws NotFoundError when `root` is missing, ConfigError when it has no class folders or no images.
 */
export async function scanImageFolder(root: string): Promise<ImageFolderListing> {
  let top: string[];
  try {
    top = await readdir(root);
  } catch (err) {
    throw new NotFoundError(`Cannot list image folder ${root}: ${(err as Error).message}. Pass a directory with one sub-folder per class.`, { cause: err });
  }
  const classNames: string[] = [];
  for (const name of top.sort()) {
    if (name.startsWith('.')) continue;
    if ((await stat(join(root, name))).isDirectory()) classNames.push(name);
  }
  if (classNames.length === 0) {
    throw new ConfigError(`Image folder ${root} has no class sub-folders. Arrange images as ${root}/<class name>/<image>.png.`);
  }
  const entries: ImageFolderEntry[] = [];
  for (const [label, className] of classNames.entries()) {
    const dir = join(root, className);
    for (const f of (await readdir(dir)).sort()) {
      if (f.startsWith('.')) continue;
      if (!(IMAGE_EXTENSIONS as readonly string[]).includes(extname(f).toLowerCase())) continue;
      const p = join(dir, f);
      if ((await stat(p)).isFile()) entries.push({ path: p, label });
    }
  }
  if (entries.length === 0)
    throw new ConfigError(`Image folder ${root} has class folders (${classNames.join(', ')}) but no ${IMAGE_EXTENSIONS.join('/')} files in them.`);
  return { entries, classNames };
}

/** Options of {@link loadImageFolder}. */
export interface LoadImageFolderOptions extends LoadImageOptions, LongRunningOptions {
  /** Output size (required: every image is brought to size×size, by default with the ADM center crop). */
  readonly size: number;
  /** Keep only the first `limit` files (in listing order). */
  readonly limit?: number;
}

/**
 * Loads every image of an image folder (see {@link scanImageFolder}) into [N, C, size, size] float32 in [0, 1].
 * A file that fails to decode throws FormatError naming it. Reports progress as task 'load-images'.
 */
export async function loadImageFolder(root: string, options: LoadImageFolderOptions): Promise<LabelledImages & { readonly paths: readonly string[] }> {
  const { entries, classNames } = await scanImageFolder(root);
  const list = options.limit === undefined ? entries : entries.slice(0, Math.max(0, options.limit));
  const c = options.channels ?? 3;
  const per = c * options.size * options.size;
  const data = new Float32Array(list.length * per);
  const labels = new Int32Array(list.length);
  for (const [i, e] of list.entries()) {
    throwIfAborted(options.signal, 'image folder loading');
    let t: CpuTensor<'float32'>;
    try {
      t = await loadImage(e.path, options);
    } catch (err) {
      if (err instanceof FormatError) throw err;
      throw new FormatError(`Image ${e.path} could not be loaded: ${(err as Error).message}`, { cause: err });
    }
    data.set(t.data, i * per);
    labels[i] = e.label;
    options.onProgress?.({ task: 'load-images', current: i + 1, total: list.length });
  }
  return { images: new CpuTensor(data, [list.length, c, options.size, options.size]), labels, classNames, paths: list.map((e) => e.path) };
}
