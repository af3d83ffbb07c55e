/**
 * Float64 reference loops for 3D convolution (output, input gradient, filter gradient) and the shared
 * test cases: used by the wasm kernel tests (kernels.test.ts) and the webgpu ones (webgpu.test.ts).
 */
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import type { Rng } from "../src/util/rng.js";

export type S5 = [number, number, number, number, number];

export function rand(shape: number[], rng: Rng): Float64Array {
  const n = shape.reduce((a, b) => a * b, 1);
  return Float64Array.from({ length: n }, () => rng.uniform(-1, 1));
}

export interface Geo {
  oD: number;
  oH: number;
  oW: number;
  front: number;
  top: number;
  left: number;
}

export function geo(x: S5, f: S5, s: number, pad: "same" | "valid"): Geo {
  const out = (n: number, k: number) => (pad === "same" ? Math.ceil(n / s) : Math.ceil((n - k + 1) / s));
  const padBefore = (n: number, k: number) => {
    if (pad === "valid") return 0;
    const o = Math.ceil(n / s);
    return Math.floor(Math.max(0, (o - 1) * s + k - n) / 2);
  };
  return {
    oD: out(x[1], f[0]),
    oH: out(x[2], f[1]),
    oW: out(x[3], f[2]),
    front: padBefore(x[1], f[0]),
    top: padBefore(x[2], f[1]),
    left: padBefore(x[3], f[2]),
  };
}

/** y, dx and dW by direct float64 loops (dx, dW for a given dy). */
export function reference(xs: S5, fs: S5, s: number, pad: "same" | "valid", x: Float64Array, w: Float64Array, dy: Float64Array) {
  const [B, D, H, W, C] = xs;
  const [kd, kh, kw, , O] = fs;
  const g = geo(xs, fs, s, pad);
  const y = new Float64Array(B * g.oD * g.oH * g.oW * O);
  const dx = new Float64Array(x.length);
  const dw = new Float64Array(w.length);
  for (let b = 0; b < B; b++)
    for (let od = 0; od < g.oD; od++)
      for (let oh = 0; oh < g.oH; oh++)
        for (let ow = 0; ow < g.oW; ow++)
          for (let a = 0; a < kd; a++)
            for (let bb = 0; bb < kh; bb++)
              for (let c = 0; c < kw; c++) {
                const id = od * s - g.front + a,
                  ih = oh * s - g.top + bb,
                  iw = ow * s - g.left + c;
                if (id < 0 || id >= D || ih < 0 || ih >= H || iw < 0 || iw >= W) continue;
                const xo = (((b * D + id) * H + ih) * W + iw) * C;
                const yo = (((b * g.oD + od) * g.oH + oh) * g.oW + ow) * O;
                const wo = ((a * kh + bb) * kw + c) * C * O;
                for (let ci = 0; ci < C; ci++)
                  for (let o = 0; o < O; o++) {
                    y[yo + o] += x[xo + ci] * w[wo + ci * O + o];
                    dx[xo + ci] += dy[yo + o] * w[wo + ci * O + o];
                    dw[wo + ci * O + o] += dy[yo + o] * x[xo + ci];
                  }
              }
  return { y, dx, dw, outShape: [B, g.oD, g.oH, g.oW, O] };
}

export function relErr(got: ArrayLike<number>, want: Float64Array): number {
  let num = 0,
    scale = 0;
  for (let i = 0; i < want.length; i++) {
    num = Math.max(num, Math.abs(got[i] - want[i]));
    scale = Math.max(scale, Math.abs(want[i]));
  }
  return num / (scale || 1);
}

export const CASES: { x: S5; f: S5; s: number; pad: "same" | "valid" }[] = [
  { x: [1, 7, 9, 5, 1], f: [3, 3, 3, 1, 4], s: 1, pad: "same" },
  { x: [2, 5, 6, 7, 3], f: [3, 3, 3, 3, 5], s: 1, pad: "valid" },
  { x: [1, 8, 8, 8, 8], f: [2, 2, 2, 8, 8], s: 2, pad: "valid" },
  { x: [2, 7, 9, 5, 3], f: [3, 3, 3, 3, 4], s: 2, pad: "same" },
  { x: [1, 6, 5, 7, 64], f: [3, 3, 3, 64, 16], s: 1, pad: "same" },
  { x: [1, 4, 6, 4, 16], f: [3, 3, 3, 16, 64], s: 2, pad: "valid" },
  { x: [2, 9, 4, 6, 2], f: [1, 3, 2, 2, 3], s: 1, pad: "same" },
];

export type ConvCase = { x: S5; f: S5; s: number; pad: "same" | "valid" };

/**
 * Run Conv3D and both gradient kernels of the active backend on a random case and compare each with the
 * float64 loops (relative error <= 1e-4); tensors are disposed. Reads with data(), so webgpu works too.
 */
export async function checkConvCase(c: ConvCase, rng: Rng, setting: string): Promise<void> {
  const x = rand(c.x, rng),
    w = rand(c.f, rng);
  const g = geo(c.x, c.f, c.s, c.pad);
  const dy = rand([c.x[0], g.oD, g.oH, g.oW, c.f[4]], rng);
  const ref = reference(c.x, c.f, c.s, c.pad, x, w, dy);
  const xt = tf.tensor5d(Float32Array.from(x), c.x);
  const wt = tf.tensor5d(Float32Array.from(w), c.f);
  const dyt = tf.tensor5d(Float32Array.from(dy), ref.outShape as S5);
  const y = tf.conv3d(xt, wt, c.s, c.pad);
  const dx = tf.engine().runKernel("Conv3DBackpropInputV2", { dy: dyt, filter: wt }, { strides: [c.s, c.s, c.s], pad: c.pad, inputShape: c.x }) as tf.Tensor;
  const dw = tf.engine().runKernel("Conv3DBackpropFilterV2", { x: xt, dy: dyt }, { strides: [c.s, c.s, c.s], pad: c.pad, filterShape: c.f }) as tf.Tensor;
  const [yd, dxd, dwd] = (await Promise.all([y.data(), dx.data(), dw.data()])) as Float32Array[];
  const name = `${setting} ${JSON.stringify(c)}`;
  assert.deepEqual(y.shape, ref.outShape);
  assert.ok(relErr(yd, ref.y) <= 1e-4, `conv ${name}: ${relErr(yd, ref.y)}`);
  assert.ok(relErr(dxd, ref.dx) <= 1e-4, `dx ${name}: ${relErr(dxd, ref.dx)}`);
  assert.ok(relErr(dwd, ref.dw) <= 1e-4, `dW ${name}: ${relErr(dwd, ref.dw)}`);
  tf.dispose([xt, wt, dyt, y, dx, dw]);
}
