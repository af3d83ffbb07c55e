/**
 * A tiled matrix product C[R, N] = A[R, K] B[K, N] for tfjs's webgpu backend whose A is never stored: WGSL
 * reads each A element from a tensor (the implicit im2col of a convolution). The same tiling as the filter
 * gradient (Conv3DBackpropFilterV2.ts): a workgroup of 16 x 16 threads computes a tile of C, staging 16
 * values of the inner dimension of A and B at a time in workgroup memory.
 * Each thread computes 4 x 4, 8 x 4 or 8 x 8 outputs (threadTile): tiles of 64 x 64 to 128 x 128, more
 * multiply-adds per workgroup-memory read the larger; which is fastest on a GPU is what the GPU check
 * measures. Conv3D.ts and Conv3DBackpropInputV2.ts supply the A and B reads.
 *
 * A is read through two WGSL snippets (ImplicitA): a row's coordinates, and the element at a filter tap
 * and channel (k = tap * channels + ch). Two ways to stage it. Element by element: each element's row
 * and k are decoded on their own, any shape. By tap, when the channels of a tap are a multiple of 16, as
 * in every layer of the kit's nets but the first: a 16-wide slice of k then lies in one tap, so the tap is
 * decoded once per slice for the whole workgroup, each thread decodes its rows once before the loop,
 * and 16 neighbouring threads read 16 neighbouring channels of one voxel (one 64-byte read) instead of
 * one channel of 16 voxels.
 */
import type * as tf from "@tensorflow/tfjs";
import { env } from "../../env.js";
import { int32 } from "./webgpu-backend.js";

const KSTEP = 16; // inner-dimension values staged per iteration

/** Outputs a thread computes, rows x columns: a workgroup of 16 x 16 threads computes 16 rows x 16 columns of them. */
export interface ThreadTile {
  rows: 4 | 8;
  cols: 4 | 8;
}

export const THREAD_TILES: Record<string, ThreadTile> = { "4x4": { rows: 4, cols: 4 }, "8x4": { rows: 8, cols: 4 }, "8x8": { rows: 8, cols: 8 } };

/** Workgroup memory the tile's staging takes: As [16][16 rows + 1] and Bs [16][16 cols], float32. */
export const workgroupBytes = (t: ThreadTile): number => 4 * KSTEP * (16 * t.rows + 1 + 16 * t.cols);

/**
 * The thread tile for a product of N columns: MASSIVE_WEBGPU_CONV_TILE's, or by default ("auto") 8x8 when
 * N fills a 128-wide tile and the device has the workgroup memory (8x8 needs 16,448 bytes, just over
 * WebGPU's default limit of 16,384), else 8x4. On llvmpipe (2026-12-06, docs/benchmarks.md) 8x4 took
 * about 20 % less time than 4x4 at 32-128 channels and 8x8 about half of 4x4's at 128; a GPU is unmeasured.
 */
export function threadTile(backend: unknown, N: number): ThreadTile {
  const v = env("MASSIVE_WEBGPU_CONV_TILE") ?? "auto";
  const limit = (backend as { device?: { limits?: { maxComputeWorkgroupStorageSize?: number } } }).device?.limits?.maxComputeWorkgroupStorageSize ?? 16384;
  if (v === "auto") return N >= 128 && workgroupBytes(THREAD_TILES["8x8"]) <= limit ? THREAD_TILES["8x8"] : THREAD_TILES["8x4"];
  const t = THREAD_TILES[v];
  if (!t) throw new Error(`MASSIVE_WEBGPU_CONV_TILE must be auto or one of ${Object.keys(THREAD_TILES).join(", ")}; got "${v}"`);
  if (workgroupBytes(t) > limit)
    throw new Error(`MASSIVE_WEBGPU_CONV_TILE=${v} needs ${workgroupBytes(t)} bytes of workgroup memory; this WebGPU device allows ${limit}`);
  return t;
}

/** The convolution's sizes every A read needs, passed as uniforms (one shader for every shape). */
export const CONV_UNIFORMS = [
  "R",
  "N",
  "K",
  "cin",
  "cout",
  "kd",
  "kh",
  "kw",
  "D",
  "H",
  "W",
  "oD",
  "oH",
  "oW",
  "sD",
  "sH",
  "sW",
  "front",
  "top",
  "left",
] as const;

/** The uniforms in CONV_UNIFORMS order for a product R x N (inner K) over a convolution's geometry. */
export function convUniforms(info: tf.backend_util.Conv3DInfo, filterShape: number[], R: number, N: number, K: number): { type: string; data: number[] }[] {
  const [kd, kh, kw, cin, cout] = filterShape;
  const u: Record<(typeof CONV_UNIFORMS)[number], number> = {
    R,
    N,
    K,
    cin,
    cout,
    kd,
    kh,
    kw,
    D: info.inDepth,
    H: info.inHeight,
    W: info.inWidth,
    oD: info.outDepth,
    oH: info.outHeight,
    oW: info.outWidth,
    sD: info.strideDepth,
    sH: info.strideHeight,
    sW: info.strideWidth,
    front: info.padInfo.front,
    top: info.padInfo.top,
    left: info.padInfo.left,
  };
  return CONV_UNIFORMS.map((name) => int32(u[name]));
}

/**
 * How A is read, with k = tap * channels + ch. `rowCoords`: WGSL given `row` returning a vec4<i32> of what
 * the row's reads need; `readTap`: WGSL given that vec4 `p`, the tap's offsets `d`, `b`, `c` and the
 * channel `ch`, evaluating to A[row, k] (0 outside the volume).
 */
export interface ImplicitA {
  channels: "cin" | "cout";
  rowCoords: string;
  readTap: string;
}

/**
 * Columns (N) below which a product leaves most of its (at least) 64-wide tiles idle: the convolutions then run
 * tfjs's stock shader (one output element a thread; correct on webgpu). On llvmpipe the stock input
 * gradient took 40 ms against 168 for 4 -> 8 channels at 24^3, the kit's Conv3D 28 against 223 for 1 -> 32.
 */
export const MIN_TILE_COLUMNS = 32;

/** Whether a product whose k runs over taps of `channels` channels can stage A by tap. */
export const canStageByTap = (channels: number): boolean => channels % KSTEP === 0;

/** A filter tap's offsets d, b, c from `tap`. */
const DECODE_TAP = `let c = tap % uniforms.kw;
          let b = (tap / uniforms.kw) % uniforms.kh;
          let d = tap / (uniforms.kw * uniforms.kh);`;

/**
 * A [16 x width] slice of a matrix into workgroup memory (`tile`[k][i], k from k0, i from `first`), one
 * element at a time: width / 16 a thread, neighbouring threads on neighbouring i.
 */
const stageByElement = (tile: "As" | "Bs", width: number, first: string, size: string, read: string) => `
          for (var l = 0; l < ${width / 16}; l++) {
            let e = tid + l * 256;
            let kk = e / ${width};
            let mm = e % ${width};
            let k = k0 + kk;
            var v = 0.0;
            if (k < uniforms.K && ${first} + mm < uniforms.${size}) { v = ${read}; }
            ${tile}[kk][mm] = v;
          }`;

/** A by tap: this thread's channel tkk of its rows mBase + 16 l. */
const stageATap = (channels: string, RM: number) => `
          let tap = k0 / uniforms.${channels};
          let ch = k0 - tap * uniforms.${channels} + tkk;
          ${DECODE_TAP}
          for (var l = 0; l < ${RM}; l++) {
            var a = 0.0;
            if (rowIn[l]) { a = readTap(rows[l], d, b, c, ch); }
            As[tkk][mBase + 16 * l] = a;
          }`;

/**
 * The program. `a` reads A from the first input (staged by tap when its channels allow: canStageByTap);
 * `readB` is WGSL that, given `k` and `col`, evaluates to B[k, col] from the second; each thread computes
 * `tile` outputs.
 */
export function implicitGemmProgram(
  shaderKey: string,
  inputs: [string, string],
  R: number,
  N: number,
  a: ImplicitA,
  byTap: boolean,
  readB: string,
  { rows: RM, cols: RN }: ThreadTile,
) {
  const TM = 16 * RM,
    TN = 16 * RN; // the workgroup's tile
  return {
    variableNames: inputs,
    outputShape: [R, N],
    shaderKey: `${shaderKey}_${byTap ? "tap" : "generic"}_${RM}x${RN}`,
    dispatchLayout: { x: [1], y: [0] },
    dispatch: [Math.ceil(N / TN), Math.ceil(R / TM), 1],
    workgroupSize: [16, 16, 1] as [number, number, number],
    uniforms: CONV_UNIFORMS.map((u) => `${u} : i32,`).join(" "),
    size: false,
    getUserCode: () => `
      // Rows padded to ${TM + 1}: the by-tap staging writes a column of As (16 threads, one k each) without bank conflicts.
      var<workgroup> As : array<array<f32, ${TM + 1}>, ${KSTEP}>;
      var<workgroup> Bs : array<array<f32, ${TN}>, ${KSTEP}>;
      fn rowCoords(row : i32) -> vec4<i32> { ${a.rowCoords} }
      fn readTap(p : vec4<i32>, d : i32, b : i32, c : i32, ch : i32) -> f32 { ${a.readTap} }
      fn readA(row : i32, k : i32) -> f32 {
        let tap = k / uniforms.${a.channels};
        let ch = k - tap * uniforms.${a.channels};
        ${DECODE_TAP}
        return readTap(rowCoords(row), d, b, c, ch);
      }
      fn readB(k : i32, col : i32) -> f32 { ${readB} }
      fn main() {
        let tx = i32(localId.x);
        let ty = i32(localId.y);
        let tid = ty * 16 + tx;
        let r0 = i32(workgroupId.y) * ${TM};
        let n0 = i32(workgroupId.x) * ${TN};
        var acc : array<array<f32, ${RN}>, ${RM}>;
        for (var i = 0; i < ${RM}; i++) { for (var j = 0; j < ${RN}; j++) { acc[i][j] = 0.0; } }
        ${
          byTap
            ? `let tkk = tid % ${KSTEP};
        let mBase = tid / ${KSTEP};
        var rows : array<vec4<i32>, ${RM}>;
        var rowIn : array<bool, ${RM}>;
        for (var l = 0; l < ${RM}; l++) {
          let row = r0 + mBase + 16 * l;
          rowIn[l] = row < uniforms.R;
          rows[l] = rowCoords(row);
        }`
            : ""
        }
        // The loop bound comes from uniforms only: workgroupBarrier needs uniform control flow.
        for (var k0 = 0; k0 < uniforms.K; k0 = k0 + ${KSTEP}) {
          ${byTap ? stageATap(a.channels, RM) : stageByElement("As", TM, "r0", "R", "readA(r0 + mm, k)")}
          ${stageByElement("Bs", TN, "n0", "N", "readB(k, n0 + mm)")}
          workgroupBarrier();
          for (var kk = 0; kk < ${KSTEP}; kk++) {
            var av : array<f32, ${RM}>;
            var bw : array<f32, ${RN}>;
            for (var i = 0; i < ${RM}; i++) { av[i] = As[kk][ty + 16 * i]; }
            for (var j = 0; j < ${RN}; j++) { bw[j] = Bs[kk][tx + 16 * j]; }
            for (var i = 0; i < ${RM}; i++) { for (var j = 0; j < ${RN}; j++) { acc[i][j] = fma(av[i], bw[j], acc[i][j]); } }
          }
          workgroupBarrier();
        }
        for (var i = 0; i < ${RM}; i++) {
          let r = r0 + ty + 16 * i;
          if (r < uniforms.R) {
            for (var j = 0; j < ${RN}; j++) {
              let n = n0 + tx + 16 * j;
              if (n < uniforms.N) { result[r * uniforms.N + n] = acc[i][j]; }
            }
          }
        }
      }
    `,
  };
}
