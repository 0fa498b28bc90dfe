/** RoPE tables of docs/algorithm.md §2.5 (2-D, interleaved pairs, class-token rows of zeros), in float64. */
import { ConfigError, at } from '@bigr/core';
import type { F64Array } from './ndarray.js';

/** cos and sin tables, each [positions, headDim/2]: entry (t, p) rotates pair (2p, 2p+1) of position t. */
export interface RopeTables {
  /** cos φ, shape [L, headDim/2]. */
  readonly cos: F64Array;
  /** sin φ, shape [L, headDim/2]. */
  readonly sin: F64Array;
}

/**
 * 2-D RoPE tables for a `gridSide × gridSide` token grid preceded by `clsTokens` class tokens (docs/algorithm.md §2.5):
 * θ_j = base^(−2j/(d/2)) for j < d/4; the image token at (row r, col c), position clsTokens + r·G + c, has angle
 * φ_p = r·θ_p for pair p < d/4 and φ_p = c·θ_{p−d/4} otherwise. Class-token rows have cos = sin = 0 (QUIRK: the
 * class token's q and k become exactly zero).
 */
export function rope2dTables(gridSide: number, headDim: number, base = 10000, clsTokens = 1): RopeTables {
  if (!Number.isInteger(headDim) || headDim % 4 !== 0) throw new ConfigError(`rope2dTables: headDim ${headDim} must be a multiple of 4.`);
  const half = headDim / 2;
  const quarter = headDim / 4;
  const theta = Array.from({ length: quarter }, (_, j) => base ** (-(2 * j) / half));
  const positions = clsTokens + gridSide * gridSide;
  const cos = new Float64Array(positions * half);
  const sin = new Float64Array(positions * half);
  for (let r = 0; r < gridSide; r++)
    for (let c = 0; c < gridSide; c++) {
      const t = clsTokens + r * gridSide + c;
      for (let p = 0; p < half; p++) {
        const phi = p < quarter ? r * at(theta, p) : c * at(theta, p - quarter);
        cos[t * half + p] = Math.cos(phi);
        sin[t * half + p] = Math.sin(phi);
      }
    }
  return { cos: { data: cos, shape: [positions, half] }, sin: { data: sin, shape: [positions, half] } };
}
