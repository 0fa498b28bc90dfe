/** Version of the CLI package (kept in step with all @bigr packages by changesets' fixed group). */
export const CLI_VERSION = '0.1.0';
