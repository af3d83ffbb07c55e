/**
 * A small RGB raster for figures drawn without a browser: CT slices with label overlays, and text in
 * a built-in 5x7 pixel font (digits, capitals and a few signs).
 */
import { CLASS_NAMES } from "../data/ontology.js";
import type { Volume } from "../data/volume.js";

export class RgbCanvas {
  readonly rgb: Uint8Array;
  constructor(
    readonly width: number,
    readonly height: number,
    background: [number, number, number] = [255, 255, 255],
  ) {
    this.rgb = new Uint8Array(width * height * 3);
    for (let i = 0; i < width * height; i++) this.rgb.set(background, i * 3);
  }

  set(x: number, y: number, c: readonly number[]): void {
    if (x < 0 || y < 0 || x >= this.width || y >= this.height) return;
    this.rgb.set(c, (y * this.width + x) * 3);
  }

  fillRect(x: number, y: number, w: number, h: number, c: readonly number[]): void {
    for (let j = y; j < y + h; j++) for (let i = x; i < x + w; i++) this.set(i, j, c);
  }

  text(x: number, y: number, s: string, c: readonly number[] = [0, 0, 0], scale = 2): void {
    let cx = x;
    for (const ch of s.toUpperCase()) {
      const g = FONT[ch] ?? FONT["?"];
      for (let row = 0; row < 7; row++)
        for (let col = 0; col < 5; col++) if ((g[row] >> (4 - col)) & 1) this.fillRect(cx + col * scale, y + row * scale, scale, scale, c);
      cx += 6 * scale;
    }
  }
}

/** A distinct colour per class id (1..32), fixed so every figure agrees. */
export function classColor(id: number): [number, number, number] {
  const h = ((id * 137.508) % 360) / 60;
  const c = 0.85,
    x = c * (1 - Math.abs((h % 2) - 1));
  const [r, g, b] = h < 1 ? [c, x, 0] : h < 2 ? [x, c, 0] : h < 3 ? [0, c, x] : h < 4 ? [0, x, c] : h < 5 ? [x, 0, c] : [c, 0, x];
  return [r, g, b].map((v) => Math.round(40 + 215 * v)) as [number, number, number];
}

/**
 * Draw axial slice z of a RAS volume (HU or [0, 1] per `window`) at (x0, y0), `scale` pixels per voxel,
 * anterior up and patient right on the left (radiological view), labels blended on top.
 */
export function drawAxialSlice(
  cv: RgbCanvas,
  x0: number,
  y0: number,
  image: Volume<Float32Array>,
  z: number,
  window: [number, number],
  scale: number,
  labels?: Uint8Array,
  alpha = 0.45,
): void {
  const [nx, ny] = image.shape;
  for (let y = 0; y < ny; y++)
    for (let x = 0; x < nx; x++) {
      const i = x + nx * (y + ny * z);
      const g = Math.round(255 * Math.min(1, Math.max(0, (image.data[i] - window[0]) / (window[1] - window[0]))));
      let c = [g, g, g];
      const l = labels?.[i] ?? 0;
      if (l) c = classColor(l).map((v, k) => Math.round((1 - alpha) * c[k] + alpha * v));
      // RAS voxel x grows toward the patient's right; the radiological view shows the patient's right on
      // the left of the picture, and anterior (growing y) at the top.
      cv.fillRect(x0 + (nx - 1 - x) * scale, y0 + (ny - 1 - y) * scale, scale, scale, c);
    }
}

export function legendEntries(ids: number[]): { id: number; name: string; color: [number, number, number] }[] {
  return ids.map((id) => ({ id, name: CLASS_NAMES[id - 1], color: classColor(id) }));
}

// 5x7 glyphs, one number per row (bit 4 = leftmost column).
const FONT: Record<string, number[]> = {
  " ": [0, 0, 0, 0, 0, 0, 0],
  "?": [14, 17, 1, 2, 4, 0, 4],
  "0": [14, 17, 19, 21, 25, 17, 14],
  "1": [4, 12, 4, 4, 4, 4, 14],
  "2": [14, 17, 1, 2, 4, 8, 31],
  "3": [31, 2, 4, 2, 1, 17, 14],
  "4": [2, 6, 10, 18, 31, 2, 2],
  "5": [31, 16, 30, 1, 1, 17, 14],
  "6": [6, 8, 16, 30, 17, 17, 14],
  "7": [31, 1, 2, 4, 8, 8, 8],
  "8": [14, 17, 17, 14, 17, 17, 14],
  "9": [14, 17, 17, 15, 1, 2, 12],
  A: [14, 17, 17, 31, 17, 17, 17],
  B: [30, 17, 17, 30, 17, 17, 30],
  C: [14, 17, 16, 16, 16, 17, 14],
  D: [28, 18, 17, 17, 17, 18, 28],
  E: [31, 16, 16, 30, 16, 16, 31],
  F: [31, 16, 16, 30, 16, 16, 16],
  G: [14, 17, 16, 23, 17, 17, 15],
  H: [17, 17, 17, 31, 17, 17, 17],
  I: [14, 4, 4, 4, 4, 4, 14],
  J: [7, 2, 2, 2, 2, 18, 12],
  K: [17, 18, 20, 24, 20, 18, 17],
  L: [16, 16, 16, 16, 16, 16, 31],
  M: [17, 27, 21, 21, 17, 17, 17],
  N: [17, 17, 25, 21, 19, 17, 17],
  O: [14, 17, 17, 17, 17, 17, 14],
  P: [30, 17, 17, 30, 16, 16, 16],
  Q: [14, 17, 17, 17, 21, 18, 13],
  R: [30, 17, 17, 30, 20, 18, 17],
  S: [15, 16, 16, 14, 1, 1, 30],
  T: [31, 4, 4, 4, 4, 4, 4],
  U: [17, 17, 17, 17, 17, 17, 14],
  V: [17, 17, 17, 17, 17, 10, 4],
  W: [17, 17, 17, 21, 21, 21, 10],
  X: [17, 17, 10, 4, 10, 17, 17],
  Y: [17, 17, 10, 4, 4, 4, 4],
  Z: [31, 1, 2, 4, 8, 16, 31],
  "-": [0, 0, 0, 31, 0, 0, 0],
  ".": [0, 0, 0, 0, 0, 12, 12],
  ":": [0, 12, 12, 0, 12, 12, 0],
  "/": [1, 1, 2, 4, 8, 16, 16],
  "%": [24, 25, 2, 4, 8, 19, 3],
  _: [0, 0, 0, 0, 0, 0, 31],
  "(": [2, 4, 8, 8, 8, 4, 2],
  ")": [8, 4, 2, 2, 2, 4, 8],
  ",": [0, 0, 0, 0, 12, 4, 8],
  "+": [0, 4, 4, 31, 4, 4, 0],
};
