import { FormatError, hashTensors, loadModelDirectory, saveModelDirectory, ShapeError, type NamedTensors } from '@bigr/core';
import {
  FASHION_CLASSIFIER_FORMAT,
  FASHION_CLASSIFIER_PREPROCESSING,
  FASHION_CLASSIFIER_VERSION,
  fashionClassifierParameterShapes,
  parseFashionClassifierConfig,
  type FashionClassifierConfig,
} from './config.js';

/** Contents of `config.json` of a saved evaluation network. */
export interface FashionClassifierFile {
  /** {@link FASHION_CLASSIFIER_FORMAT}. */
  readonly format: string;
  /** {@link FASHION_CLASSIFIER_VERSION}. */
  readonly version: number;
  /** Architecture. */
  readonly architecture: FashionClassifierConfig;
  /** Input preprocessing ({@link FASHION_CLASSIFIER_PREPROCESSING}). */
  readonly preprocessing: string;
  /** Hex SHA-256 of the weights as computed by core `hashTensors` (name/dtype/shape/bytes, name-sorted). */
  readonly weightsSha256: string;
  /** Free-form record of how the weights were made (data, seed, epochs, test accuracy, ...). */
  readonly training?: Readonly<Record<string, unknown>>;
}

/** A loaded evaluation network. */
export interface LoadedFashionClassifier {
  /** Architecture. */
  readonly config: FashionClassifierConfig;
  /** Weights (verified against the recorded hash). */
  readonly params: NamedTensors;
  /** Hex SHA-256 of the weights. */
  readonly weightsHash: string;
  /** The parsed `config.json`. */
  readonly file: FashionClassifierFile;
}

/**
 * Writes `dir/model.safetensors` and `dir/config.json` (each atomically, weights first) and returns the weights hash
 * recorded in the config.
 */
export async function saveFashionClassifier(
  dir: string,
  params: NamedTensors,
  config: Partial<FashionClassifierConfig> = {},
  training?: Readonly<Record<string, unknown>>,
): Promise<string> {
  const architecture = parseFashionClassifierConfig(config);
  const ordered: NamedTensors = new Map();
  for (const [name, shape] of fashionClassifierParameterShapes(architecture)) {
    const t = params.get(name);
    if (t?.dtype !== 'float32' || t.shape.length !== shape.length || t.shape.some((d, i) => d !== shape[i])) {
      throw new ShapeError(
        `Cannot save the Fashion classifier: parameter "${name}" is ${t ? `${t.dtype} [${t.shape.join(', ')}]` : 'missing'}; ` +
          `expected float32 [${shape.join(', ')}].`,
      );
    }
    ordered.set(name, t);
  }
  const weightsSha256 = hashTensors(ordered);
  const file: FashionClassifierFile = {
    format: FASHION_CLASSIFIER_FORMAT,
    version: FASHION_CLASSIFIER_VERSION,
    architecture,
    preprocessing: FASHION_CLASSIFIER_PREPROCESSING,
    weightsSha256,
    ...(training ? { training } : {}),
  };
  await saveModelDirectory(dir, { config: file, tensors: ordered, metadata: { format: FASHION_CLASSIFIER_FORMAT, weightsSha256 } });
  return weightsSha256;
}

/**
 * Loads a directory written by {@link saveFashionClassifier}: validates the config and every parameter shape and
 * checks the weights against the recorded SHA-256 (a mismatch is a {@link FormatError}).
 */
export async function loadFashionClassifier(dir: string): Promise<LoadedFashionClassifier> {
  const { config: raw, tensors } = await loadModelDirectory(dir, { maxConfigBytes: 1024 * 1024, maxHeaderBytes: 1024 * 1024 });
  const o = raw as Partial<FashionClassifierFile> | null;
  if (!o || typeof o !== 'object' || o.format !== FASHION_CLASSIFIER_FORMAT) {
    throw new FormatError(
      `${dir}/config.json has format ${JSON.stringify(o?.format)}; expected "${FASHION_CLASSIFIER_FORMAT}". ` +
        `Point at a directory written by saveFashionClassifier.`,
    );
  }
  if (o.version !== FASHION_CLASSIFIER_VERSION) {
    throw new FormatError(`${dir}/config.json has version ${JSON.stringify(o.version)}; this build reads version ${FASHION_CLASSIFIER_VERSION}.`);
  }
  if (o.preprocessing !== FASHION_CLASSIFIER_PREPROCESSING) {
    throw new FormatError(
      `${dir}/config.json has preprocessing ${JSON.stringify(o.preprocessing)}; this build implements "${FASHION_CLASSIFIER_PREPROCESSING}".`,
    );
  }
  if (typeof o.weightsSha256 !== 'string' || !/^[0-9a-f]{64}$/.test(o.weightsSha256)) {
    throw new FormatError(`${dir}/config.json has weightsSha256 ${JSON.stringify(o.weightsSha256)}; expected 64 lowercase hex digits.`);
  }
  const config = parseFashionClassifierConfig(o.architecture);
  const params: NamedTensors = new Map();
  const shapes = fashionClassifierParameterShapes(config);
  for (const [name, shape] of shapes) {
    const t = tensors.get(name);
    if (t?.dtype !== 'float32' || t.shape.length !== shape.length || t.shape.some((d, i) => d !== shape[i])) {
      throw new FormatError(
        `${dir}/model.safetensors: "${name}" is ${t ? `${t.dtype} [${t.shape.join(', ')}]` : 'missing'}; the config needs float32 [${shape.join(', ')}].`,
      );
    }
    params.set(name, t);
  }
  const extra = [...tensors.keys()].filter((k) => !shapes.has(k));
  if (extra.length > 0)
    throw new FormatError(`${dir}/model.safetensors has unexpected tensors ${extra.map((e) => `"${e}"`).join(', ')}; it is not this network's weights.`);
  const weightsHash = hashTensors(params);
  if (weightsHash !== o.weightsSha256) {
    throw new FormatError(
      `${dir}/model.safetensors hashes to ${weightsHash} but config.json records ${o.weightsSha256}; the weights were modified or mismatched. ` +
        `Re-train or restore the files.`,
    );
  }
  return { config, params, weightsHash, file: o as FashionClassifierFile };
}
