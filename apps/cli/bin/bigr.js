#!/usr/bin/env node
// Launcher kept as plain JavaScript so it exists before the TypeScript build: npm links `bigr` at install time.
import '../dist/bin.js';
