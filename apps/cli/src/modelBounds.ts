/** Model config bounds moved to `@bigr/pipeline`; re-exported here so existing imports keep working. */
export { MODEL_CONFIG_MAXIMA, checkConfigMaxima, checkWeightsMatchConfig, checkFiniteRequested, maybeCheckFinite, type ShapeSource } from '@bigr/pipeline';
