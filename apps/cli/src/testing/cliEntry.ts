/** Child-process entry of the CLI for tests (run through registerTsLoader.mjs): `bigr <args>` with real signals. */
import { main } from '../main.js';

process.exitCode = await main(process.argv.slice(2));
