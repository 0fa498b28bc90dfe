// The Fashion-MNIST test set, fetched as the gzipped IDX files Debian ships and decompressed in the browser.

/** Images (uint8, row-major n × h × w) and labels of the test set. */
export interface TestSet {
  readonly count: number;
  readonly size: number;
  readonly images: Uint8Array;
  readonly labels: Uint8Array;
}

async function gunzipUrl(url: string): Promise<Uint8Array> {
  const res = await fetch(url);
  if (!res.ok || !res.body) throw new Error(`${url}: HTTP ${res.status}`);
  const stream = res.body.pipeThrough(new DecompressionStream('gzip'));
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

function idxPayload(bytes: Uint8Array, dims: number, source: string): { shape: number[]; data: Uint8Array } {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (bytes.length < 4 + 4 * dims || view.getUint16(0) !== 0 || bytes[2] !== 0x08 || bytes[3] !== dims)
    throw new Error(`${source} is not a uint8 IDX file with ${dims} dimensions.`);
  const shape = Array.from({ length: dims }, (_, i) => view.getUint32(4 + 4 * i));
  const size = shape.reduce((a, b) => a * b, 1);
  const start = 4 + 4 * dims;
  if (bytes.length !== start + size) throw new Error(`${source} has ${bytes.length - start} data bytes; its header declares ${size}.`);
  return { shape, data: bytes.subarray(start) };
}

/** Loads the test images and labels from `base` (data/). */
export async function loadTestSet(base: string): Promise<TestSet> {
  const [imgBytes, labBytes] = await Promise.all([gunzipUrl(`${base}t10k-images-idx3-ubyte.gz`), gunzipUrl(`${base}t10k-labels-idx1-ubyte.gz`)]);
  const img = idxPayload(imgBytes, 3, 'test images');
  const lab = idxPayload(labBytes, 1, 'test labels');
  const [count, size, width] = img.shape;
  if (count === undefined || size === undefined || count !== lab.shape[0] || size !== width) throw new Error('The test images and labels do not match.');
  return { count, size, images: img.data, labels: lab.data };
}
