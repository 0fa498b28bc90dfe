/**
 * A minimal line-plot rasteriser for the study's figures: axes with numeric ticks, one polyline with point markers
 * and a numeric label per point, drawn into an RGB pixel buffer and encoded as PNG with the tokenizer's encoder.
 * Text is limited to digits, '.', '-' and a few letters (a 3×5 bitmap font); titles and axis names go in the report.
 */
import { encodePng } from '@bigr/tokenizer';

/** The glyph of a space, also drawn for characters the font lacks. */
const BLANK_GLYPH = '000000000000000';

const FONT: Record<string, string> = {
  '0': '111101101101111',
  '1': '010110010010111',
  '2': '111001111100111',
  '3': '111001111001111',
  '4': '101101111001001',
  '5': '111100111001111',
  '6': '111100111101111',
  '7': '111001001001001',
  '8': '111101111101111',
  '9': '111101111001111',
  '.': '000000000000010',
  '-': '000000111000000',
  N: '101111111111101',
  T: '111010010010010',
  '=': '000111000111000',
  s: '000011110011110',
  e: '000111111100111',
  c: '000111100100111',
  F: '111100110100100',
  I: '111010010010111',
  D: '110101101101110',
  ' ': BLANK_GLYPH,
  '/': '001001010100100',
  m: '000111111101101',
  g: '000111101011111',
  i: '010000010010010',
  t: '010111010010011',
};

/** One plotted point: x, y and its label (e.g. the N or T value). */
export interface PlotPoint {
  readonly x: number;
  readonly y: number;
  readonly label: string;
}

class Canvas {
  readonly data: Uint8Array;
  constructor(
    readonly width: number,
    readonly height: number,
  ) {
    this.data = new Uint8Array(width * height * 3).fill(255);
  }
  set(x: number, y: number, rgb: readonly number[]): void {
    x = Math.round(x);
    y = Math.round(y);
    if (x < 0 || y < 0 || x >= this.width || y >= this.height) return;
    this.data.set(rgb, (y * this.width + x) * 3);
  }
  line(x0: number, y0: number, x1: number, y1: number, rgb: readonly number[]): void {
    const n = Math.max(1, Math.ceil(Math.max(Math.abs(x1 - x0), Math.abs(y1 - y0))));
    for (let i = 0; i <= n; i++) this.set(x0 + ((x1 - x0) * i) / n, y0 + ((y1 - y0) * i) / n, rgb);
  }
  text(x: number, y: number, s: string, rgb: readonly number[], scale = 2): void {
    let cx = x;
    for (const ch of s) {
      const g = FONT[ch] ?? BLANK_GLYPH;
      for (let r = 0; r < 5; r++)
        for (let c = 0; c < 3; c++)
          if (g[r * 3 + c] === '1')
            for (let dy = 0; dy < scale; dy++) for (let dx = 0; dx < scale; dx++) this.set(cx + c * scale + dx, y + r * scale + dy, rgb);
      cx += 4 * scale;
    }
  }
}

function fmtTick(v: number, span: number): string {
  const digits = span >= 10 ? 0 : span >= 1 ? 1 : span >= 0.1 ? 2 : 3;
  return v.toFixed(digits);
}

/**
 * Renders a line plot of `points` (in the given order) to PNG bytes: x axis at the bottom, y axis at the left, four
 * ticks each, every point marked and labelled with its `label`, `corner` (e.g. 'N' or 'T') printed top right.
 */
export function linePlotPng(points: readonly PlotPoint[], options: { width?: number; height?: number; corner?: string } = {}): Uint8Array {
  const W = options.width ?? 480;
  const H = options.height ?? 360;
  const cv = new Canvas(W, H);
  const left = 60;
  const right = W - 20;
  const top = 20;
  const bottom = H - 40;
  const finite = points.filter((p) => Number.isFinite(p.x) && Number.isFinite(p.y));
  const xs = finite.map((p) => p.x);
  const ys = finite.map((p) => p.y);
  let [x0, x1] = xs.length ? [Math.min(...xs), Math.max(...xs)] : [0, 1];
  let [y0, y1] = ys.length ? [Math.min(...ys), Math.max(...ys)] : [0, 1];
  if (x1 - x0 < 1e-12) [x0, x1] = [x0 - 0.5 * Math.max(Math.abs(x0), 1e-3), x1 + 0.5 * Math.max(Math.abs(x1), 1e-3)];
  if (y1 - y0 < 1e-12) [y0, y1] = [y0 - 0.5 * Math.max(Math.abs(y0), 1e-3), y1 + 0.5 * Math.max(Math.abs(y1), 1e-3)];
  const padX = (x1 - x0) * 0.08;
  const padY = (y1 - y0) * 0.12;
  x0 -= padX;
  x1 += padX;
  y0 -= padY;
  y1 += padY;
  const px = (x: number) => left + ((x - x0) / (x1 - x0)) * (right - left);
  const py = (y: number) => bottom - ((y - y0) / (y1 - y0)) * (bottom - top);
  const black = [0, 0, 0];
  const grey = [200, 200, 200];
  const blue = [31, 90, 180];
  for (let i = 0; i <= 4; i++) {
    const gx = left + ((right - left) * i) / 4;
    const gy = bottom - ((bottom - top) * i) / 4;
    cv.line(gx, top, gx, bottom, grey);
    cv.line(left, gy, right, gy, grey);
    const xv = x0 + ((x1 - x0) * i) / 4;
    const yv = y0 + ((y1 - y0) * i) / 4;
    const label = fmtTick(xv, x1 - x0);
    cv.text(Math.min(gx - 12, W - 8 * label.length - 2), bottom + 8, label, black);
    cv.text(4, gy - 5, fmtTick(yv, y1 - y0), black);
  }
  cv.line(left, bottom, right, bottom, black);
  cv.line(left, top, left, bottom, black);
  let previous: (typeof finite)[number] | undefined;
  for (const p of finite) {
    if (previous) cv.line(px(previous.x), py(previous.y), px(p.x), py(p.y), blue);
    previous = p;
  }
  for (const p of finite) {
    for (let dy = -3; dy <= 3; dy++) for (let dx = -3; dx <= 3; dx++) if (dx * dx + dy * dy <= 9) cv.set(px(p.x) + dx, py(p.y) + dy, blue);
    cv.text(px(p.x) + 5, py(p.y) - 14, p.label, black);
  }
  if (options.corner) cv.text(right - 8 * options.corner.length - 4, top + 4, options.corner, black);
  return encodePng({ width: W, height: H, channels: 3, data: cv.data });
}
