const path = require('node:path');
process.env.BIGR_REPO_ROOT = path.resolve(__dirname, '../../..');
// Tests never write to the user's cache (Hub downloads, imported checkpoints, evaluation statistics) nor reach the
// real Hub: a per-run cache under the temp dir, and a Hub URL nothing listens on unless a test passes its own.
process.env.BIGR_CACHE = process.env.BIGR_TEST_CACHE || path.join(require('node:os').tmpdir(), `bigr-test-cache-${process.pid}`);
process.env.BIGR_HUB_URL = 'http://127.0.0.1:9';
