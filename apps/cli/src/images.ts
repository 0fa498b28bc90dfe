import type { Tensor } from '@bigr/core';
import { writeImageGrid } from '@bigr/pipeline';

/**
 * Clamps to [0, 1] (the official save path clamps decoder output) and writes a grid atomically, as PNG or JPEG by
 * the extension of `path` (other extensions are refused; see `imageFormatOf` of @bigr/pipeline).
 */
export async function writeGrid(path: string, images: Tensor<'float32'>, cols: number): Promise<void> {
  await writeImageGrid(path, images, { cols, gap: 2 });
}
