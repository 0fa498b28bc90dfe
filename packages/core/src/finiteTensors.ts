import { FormatError } from './errors.js';
import { required } from './invariants.js';
import type { NamedTensors } from './tensor.js';

/**
 * Throws {@link FormatError} when a floating-point tensor holds NaN or ±Inf, naming the tensor, the first bad
 * element and how many there are. Well-formed but corrupt weights otherwise load silently and sample noise.
 */
export function assertFiniteTensors(tensors: NamedTensors, source: string): void {
  for (const [name, t] of tensors) {
    if (t.dtype !== 'float32' && t.dtype !== 'float64') continue;
    const data = t.data as Float32Array | Float64Array;
    let bad = 0;
    let first = -1;
    for (let i = 0; i < data.length; i++) {
      if (!Number.isFinite(required(data[i], 'tensor element'))) {
        bad++;
        if (first < 0) first = i;
      }
    }
    if (bad > 0) {
      throw new FormatError(
        `${source}: tensor "${name}" [${t.shape.join(', ')}] holds ${bad} non-finite value(s) (element ${first} is ${data[first]}); weights must be finite. ` +
          `The file is corrupt or the run diverged; use an earlier checkpoint or re-export it.`,
      );
    }
  }
}
