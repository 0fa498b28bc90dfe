/**
 * @bigr/cli — the `bigr` command. Programmatic entry: {@link main}.
 * @packageDocumentation
 */
export { main, type MainOptions } from './main.js';
export { EXIT, exitCodeOf } from './exitCodes.js';
export { resolveConfig, type CommandConfig } from './config.js';
export { importOfficial, formatImportReport, readClassNames, type ImportOfficialOptions, type ImportReport } from './import/index.js';
