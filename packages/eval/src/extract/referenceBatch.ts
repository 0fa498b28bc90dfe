/**
 * Opening an ADM-style reference batch (docs/evaluation.md §2.4): stored statistics when the file has `mu` (ADM's rule:
 * use them instead of recomputing), and `arr_0` images streamed for precision/recall (or for statistics when
 * none are stored). `arr_1` labels are ignored.
 */
import { NpzReader, type NpzReaderOptions } from '../io/npz.js';
import { readReferenceStatsFrom, type ReferenceStats } from '../io/referenceStats.js';
import { type ImageSource, npzImageSource } from './imageSource.js';

/** Reference data for {@link computeMetrics}. */
export interface ReferenceInput {
  /** Stored statistics; when present they are used for FID/sFID instead of recomputing from images. */
  readonly stats?: ReferenceStats;
  /** Reference images (ADM `arr_0`), needed for precision/recall, KID, or when no statistics are stored. */
  readonly images?: ImageSource;
}

/** An opened reference `.npz`; call {@link OpenedReference.close} when done. */
export interface OpenedReference extends ReferenceInput {
  /** Closes the underlying file. */
  close(): Promise<void>;
}

/** Opens a reference `.npz` (ADM or pytorch-fid layout). */
export async function openReferenceBatch(path: string, options: NpzReaderOptions = {}): Promise<OpenedReference> {
  const npz = await NpzReader.open(path, options);
  try {
    const stats = await readReferenceStatsFrom(npz);
    const images = npz.has('arr_0') ? await npzImageSource(npz, 'arr_0') : undefined;
    return { stats, images, close: () => npz.close() };
  } catch (err) {
    await npz.close();
    throw err;
  }
}
