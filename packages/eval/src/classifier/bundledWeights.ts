import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * Directory of the Fashion-MNIST evaluation network's weights shipped inside this package
 * (`weights/fashion-classifier`: config.json + model.safetensors); pass it to {@link loadFashionClassifier}.
 */
export function bundledFashionClassifierDir(): string {
  // src/classifier/ and dist/classifier/ are both two levels below the package root.
  return join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'weights', 'fashion-classifier');
}
