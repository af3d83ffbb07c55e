/**
 * Sliding-window inference (docs/method.md#evaluation): window = patch, overlap 0.5, Gaussian weighting
 * (sigma = 0.125 x window, as MONAI) of the logits (or, as an option, of the probabilities).
 */
import * as tf from "@tensorflow/tfjs";
import { cropBox, type Vec3, type Volume } from "../data/volume.js";
import { readFloats } from "../util/host-read.js";

/** Logits [1, z, y, x, K] of the given classes for one window [1, z, y, x, 1] (called inside tf.tidy). */
export type WindowPredictor = (window: tf.Tensor5D, classes: number[]) => tf.Tensor5D;

export function windowStarts(n: number, roi: number, overlap: number): number[] {
  if (n <= roi) return [0];
  const step = Math.max(1, Math.floor(roi * (1 - overlap)));
  const starts: number[] = [];
  for (let s = 0; s + roi < n; s += step) starts.push(s);
  starts.push(n - roi);
  return [...new Set(starts)];
}

export function gaussianImportance(roi: Vec3, sigmaScale = 0.125): Float32Array {
  const [nx, ny, nz] = roi;
  const g = (n: number) => {
    const s = sigmaScale * n;
    const c = (n - 1) / 2;
    return Array.from({ length: n }, (_, i) => Math.exp(-((i - c) ** 2) / (2 * s * s)));
  };
  const gx = g(nx),
    gy = g(ny),
    gz = g(nz);
  const out = new Float32Array(nx * ny * nz);
  let o = 0;
  for (let z = 0; z < nz; z++) for (let y = 0; y < ny; y++) for (let x = 0; x < nx; x++) out[o++] = Math.max(1e-3, gx[x] * gy[y] * gz[z]);
  return out;
}

/**
 * What is averaged across overlapping windows: "logits" (the reference: MONAI's sliding_window_inference
 * blends the model output, the logits; foreground where the blend > 0, i.e. sigmoid > 0.5) or
 * "probabilities" (sigmoid first, foreground where the blend > 0.5; the kit's first choice).
 */
export type Blend = "logits" | "probabilities";

/** The blended value above which a voxel is foreground. */
export function foregroundThreshold(blend: Blend): number {
  return blend === "logits" ? 0 : 0.5;
}

/**
 * Gaussian-blended maps of the requested classes over the whole volume (which must be at least the
 * window in every axis), in the space `blend` names. Returns one Float32Array per class, x fastest.
 */
export async function slidingWindow(
  predict: WindowPredictor,
  image: Volume<Float32Array>,
  roi: Vec3,
  classes: number[],
  opts: { overlap?: number; blend?: Blend } = {},
): Promise<Float32Array[]> {
  const overlap = opts.overlap ?? 0.5;
  const blend = opts.blend ?? "logits";
  const [nx, ny, nz] = image.shape;
  if (image.shape.some((n, i) => n < roi[i])) throw new Error(`sliding window: volume ${image.shape} smaller than window ${roi}; pad it first`);
  const V = nx * ny * nz;
  const acc = classes.map(() => new Float32Array(V));
  const wsum = new Float32Array(V);
  const imp = gaussianImportance(roi);
  const [rx, ry, rz] = roi;
  for (const sz of windowStarts(nz, rz, overlap))
    for (const sy of windowStarts(ny, ry, overlap))
      for (const sx of windowStarts(nx, rx, overlap)) {
        const patch = cropBox(image, { start: [sx, sy, sz], end: [sx + rx, sy + ry, sz + rz] }).data;
        const outT = tf.tidy(() => {
          const x = tf.tensor5d(patch, [1, rz, ry, rx, 1]);
          const logits = predict(x, classes);
          return blend === "logits" ? logits : tf.sigmoid(logits); // [1, z, y, x, K]
        });
        // Read outside tidy: tidy walks whatever it returns, and walking a large typed array is slow.
        const out = await readFloats(outT);
        outT.dispose();
        const K = classes.length;
        let p = 0;
        for (let z = 0; z < rz; z++)
          for (let y = 0; y < ry; y++) {
            let o = sx + nx * (sy + y + ny * (sz + z));
            for (let x = 0; x < rx; x++, p++, o++) {
              const w = imp[p];
              wsum[o] += w;
              for (let k = 0; k < K; k++) acc[k][o] += w * out[p * K + k];
            }
          }
      }
  for (const a of acc) for (let i = 0; i < V; i++) a[i] /= wsum[i];
  return acc;
}
