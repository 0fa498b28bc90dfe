/** Tokenizer model directories moved to `@bigr/pipeline`; re-exported here so existing imports keep working. */
export { TOKENIZER_FORMAT, saveTokenizerModel, readTokenizerModel, loadTokenizer, type TokenizerModelConfig } from '@bigr/pipeline';
