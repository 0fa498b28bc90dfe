import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createRng } from '@bigr/core';
import { encodePng } from '@bigr/tokenizer';

/**
 * Writes a tiny image-folder dataset (one sub-folder per class) of 32×32 RGB PNGs: class c draws a bright
 * bar at a class-specific position on a noisy background, so classes are visually distinct.
 */
export async function writeSyntheticImageFolder(root: string, options: { classes?: number; perClass?: number; seed?: number } = {}): Promise<string[]> {
  const classes = options.classes ?? 3;
  const perClass = options.perClass ?? 6;
  const rng = createRng(options.seed ?? 0);
  const names = Array.from({ length: classes }, (_, c) => `class${c}`);
  for (const [c, name] of names.entries()) {
    const dir = join(root, name);
    await mkdir(dir, { recursive: true });
    for (let i = 0; i < perClass; i++) {
      const data = new Uint8Array(32 * 32 * 3);
      for (let y = 0; y < 32; y++) {
        for (let x = 0; x < 32; x++) {
          const bar = Math.abs(x - (4 + c * 8)) < 3;
          for (let ch = 0; ch < 3; ch++) data[(y * 32 + x) * 3 + ch] = bar ? 220 : Math.floor(30 * rng.uniform());
        }
      }
      await writeFile(join(dir, `${i}.png`), encodePng({ width: 32, height: 32, channels: 3, data }));
    }
  }
  return names;
}
