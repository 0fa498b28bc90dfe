// Registers tsLoader.mjs (see there): `node --import <this file> <entry.ts>`.
import { register } from 'node:module';
register('./tsLoader.mjs', import.meta.url);
