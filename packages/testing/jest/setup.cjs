const path = require('node:path');
process.env.BIGR_REPO_ROOT = path.resolve(__dirname, '../../..');
