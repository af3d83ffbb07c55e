/**
 * Splitting one convolution into independent parts along output depth, so two threads can share it.
 * A part covers output depths [od0, od1) and reads only the input slab [s0, s1) (with its halo); its
 * geometry is the whole convolution's with the depth range and front padding shifted. The split depends
 * on the geometry only, never on whether a second thread is available, so results are the same either
 * way (deterministic training). Pure: no tfjs.
 */
import type { ConvGeometry } from "./conv3d-im2col.js";

export interface DepthPart {
  od0: number;
  od1: number;
  /** Input depth slab read by this part. */
  s0: number;
  s1: number;
  /** The part as a convolution of its own: input [B, s1 - s0, H, W, Cin] -> output [B, od1 - od0, oH, oW, Cout]. */
  g: ConvGeometry;
}

export function depthPart(g: ConvGeometry, od0: number, od1: number): DepthPart {
  const s0 = Math.max(0, od0 * g.sd - g.padFront);
  const s1 = Math.min(g.inD, (od1 - 1) * g.sd - g.padFront + g.fd);
  return { od0, od1, s0, s1, g: { ...g, inD: Math.max(0, s1 - s0), outD: od1 - od0, padFront: g.padFront - od0 * g.sd + s0 } };
}

/** Column floats of a convolution (the work of its im2col and product). */
export function columnFloats(g: ConvGeometry): number {
  return g.batch * g.outD * g.outH * g.outW * g.fd * g.fh * g.fw * g.cin;
}

/**
 * Two parts when the convolution is big enough to be worth a second thread, else the whole. The first
 * (main-thread) part gets `firstShare` of the depths: the worker's part also pays for copies in and out.
 */
export function depthParts(g: ConvGeometry, minColumnFloats: number, firstShare = 0.5): DepthPart[] {
  if (g.outD < 2 || columnFloats(g) < minColumnFloats) return [depthPart(g, 0, g.outD)];
  const mid = Math.min(g.outD - 1, Math.max(1, Math.round(g.outD * firstShare)));
  return [depthPart(g, 0, mid), depthPart(g, mid, g.outD)];
}

/** Copy depths [d0, d1) of every batch item of a [B, D, ...rest] array into dst (as [B, d1 - d0, ...rest]). */
export function copyDepths(src: Float32Array, batch: number, depth: number, rest: number, d0: number, d1: number, dst: Float32Array, dstOffset = 0): void {
  const n = (d1 - d0) * rest;
  for (let b = 0; b < batch; b++) dst.set(src.subarray((b * depth + d0) * rest, (b * depth + d0) * rest + n), dstOffset + b * n);
}

/** The inverse: write a [B, d1 - d0, ...rest] part into depths [d0, d1) of a [B, D, ...rest] array. */
export function placeDepths(part: Float32Array, batch: number, depth: number, rest: number, d0: number, d1: number, dst: Float32Array): void {
  const n = (d1 - d0) * rest;
  for (let b = 0; b < batch; b++) dst.set(part.subarray(b * n, (b + 1) * n), (b * depth + d0) * rest);
}
