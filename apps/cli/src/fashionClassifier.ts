import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

// The Fashion-MNIST evaluation network of docs/evaluation.md §9.2 (packages/eval/src/classifier), re-exported for the CLI together
// with the location of its committed weights.
export {
  createFashionFeatureExtractor,
  fashionExtractorName,
  initFashionClassifier,
  loadFashionClassifier,
  saveFashionClassifier,
  type FashionClassifierConfig,
  type FashionFeatureExtractor,
  type FashionFeatures,
  type LoadedFashionClassifier,
} from '@bigr/eval';

/** Environment variable that overrides the default evaluation-network directory. */
export const FASHION_CLASSIFIER_ENV = 'BIGR_FASHION_CLASSIFIER';

/**
 * Directory of the committed Fashion-MNIST evaluation network (`packages/eval/weights/fashion-classifier`):
 * `$BIGR_FASHION_CLASSIFIER`, else the monorepo checkout next to this CLI, else the installed `@bigr/eval` package.
 */
export function defaultClassifierDir(): string {
  const env = process.env[FASHION_CLASSIFIER_ENV];
  if (env) return env;
  const here = dirname(fileURLToPath(import.meta.url));
  const inRepo = join(here, '..', '..', '..', 'packages', 'eval', 'weights', 'fashion-classifier');
  if (existsSync(inRepo)) return inRepo;
  try {
    const pkg = createRequire(import.meta.url).resolve('@bigr/eval/package.json');
    return join(dirname(pkg), 'weights', 'fashion-classifier');
  } catch {
    return inRepo;
  }
}
