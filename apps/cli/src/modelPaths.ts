import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';

/** Directory of the bundled default model (Fashion-MNIST), shipped inside the CLI package. */
export function bundledModelDir(): string {
  return join(dirname(fileURLToPath(import.meta.url)), '..', 'models', 'fashion-mnist');
}
