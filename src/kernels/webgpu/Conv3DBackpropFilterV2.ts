/**
 * Conv3DBackpropFilterV2 for tfjs's webgpu backend as a tiled, split-K matrix product.
 *
 * The stock shader runs one thread per filter element, each looping over the whole volume: for the
 * first layer of a U-Net at 96^3 (27 x 1 x 32 filter elements) that is 864 threads doing 884,736
 * serial steps each, a GPU almost idle. Here the filter gradient is the product
 *   dW[m, co] = sum over output voxels v of X[v, m] * dY[v, co],   m = (kd, kh, kw, ci)
 * with X the implicit im2col matrix of x (never stored). A workgroup of 16 x 16 threads computes a
 * 64 x 64 tile of dW (4 x 4 per thread) over one chunk of voxels, staging 16 voxels of X and dY at a time
 * in workgroup memory; the chunks (enough of them to fill the GPU) write partial tiles that a second
 * shader sums. Checked against float64 loops in test/webgpu.test.ts.
 */
import * as tf from "@tensorflow/tfjs";

import { int32, reshapeInfo, type Info, type KernelArgs, type WebGpuBackendLike } from "./webgpu-backend.js";

const TILE = 64; // rows (m) and columns (co) of a workgroup's tile
const KSTEP = 16; // voxels staged per iteration

function filterGradProgram(M: number, N: number, chunks: number) {
  const tilesM = Math.ceil(M / TILE),
    tilesN = Math.ceil(N / TILE);
  return {
    variableNames: ["x", "dy"],
    outputShape: [chunks, M, N],
    shaderKey: "massive_conv3d_filter_grad",
    dispatchLayout: { x: [2], y: [1], z: [0] },
    dispatch: [tilesN, tilesM, chunks],
    workgroupSize: [16, 16, 1] as [number, number, number],
    uniforms:
      "M : i32, N : i32, K : i32, kc : i32, cin : i32, kw : i32, kh : i32, D : i32, H : i32, W : i32, oD : i32, oH : i32, oW : i32, sD : i32, sH : i32, sW : i32, front : i32, top : i32, left : i32,",
    size: false,
    getUserCode: () => `
      var<workgroup> As : array<array<f32, ${TILE}>, ${KSTEP}>;
      var<workgroup> Bs : array<array<f32, ${TILE}>, ${KSTEP}>;
      fn main() {
        let tx = i32(localId.x);
        let ty = i32(localId.y);
        let tid = ty * 16 + tx;
        let m0 = i32(workgroupId.y) * ${TILE};
        let n0 = i32(workgroupId.x) * ${TILE};
        let chunk = i32(workgroupId.z);
        let kBegin = chunk * uniforms.kc;
        let kEnd = min(kBegin + uniforms.kc, uniforms.K);
        var acc : array<array<f32, 4>, 4>;
        for (var i = 0; i < 4; i++) { for (var j = 0; j < 4; j++) { acc[i][j] = 0.0; } }
        // A thread stages the same column of X (m = m0 + tid % 64) at every step: its filter element
        // (kd, kh, kw, ci) is decoded once, here.
        let mm = tid % ${TILE};
        let m = m0 + mm;
        let ci = m % uniforms.cin;
        let f = m / uniforms.cin;
        let c = f % uniforms.kw;
        let b = (f / uniforms.kw) % uniforms.kh;
        let d = f / (uniforms.kw * uniforms.kh);
        // The loop bound comes from uniforms only: workgroupBarrier needs uniform control flow.
        for (var t = 0; t < uniforms.kc; t = t + ${KSTEP}) {
          let k0 = kBegin + t;
          // Stage X[k0..k0+16, m0..m0+64] and dY[k0..k0+16, n0..n0+64]: 1024 values each, 4 per thread.
          for (var l = 0; l < 4; l++) {
            let kk = tid / ${TILE} + 4 * l;
            let v = k0 + kk;
            var a = 0.0;
            if (v < kEnd && m < uniforms.M) {
              let ow = v % uniforms.oW;
              let oh = (v / uniforms.oW) % uniforms.oH;
              let od = (v / (uniforms.oW * uniforms.oH)) % uniforms.oD;
              let n = v / (uniforms.oW * uniforms.oH * uniforms.oD);
              let id = od * uniforms.sD - uniforms.front + d;
              let ih = oh * uniforms.sH - uniforms.top + b;
              let iw = ow * uniforms.sW - uniforms.left + c;
              if (id >= 0 && id < uniforms.D && ih >= 0 && ih < uniforms.H && iw >= 0 && iw < uniforms.W) {
                a = x[(((n * uniforms.D + id) * uniforms.H + ih) * uniforms.W + iw) * uniforms.cin + ci];
              }
            }
            As[kk][mm] = a;
            let nn = n0 + mm;
            var bv = 0.0;
            if (v < kEnd && nn < uniforms.N) { bv = dy[v * uniforms.N + nn]; }
            Bs[kk][mm] = bv;
          }
          workgroupBarrier();
          for (var kk = 0; kk < ${KSTEP}; kk++) {
            var av : array<f32, 4>;
            var bw : array<f32, 4>;
            for (var i = 0; i < 4; i++) { av[i] = As[kk][ty + 16 * i]; bw[i] = Bs[kk][tx + 16 * i]; }
            for (var i = 0; i < 4; i++) { for (var j = 0; j < 4; j++) { acc[i][j] = fma(av[i], bw[j], acc[i][j]); } }
          }
          workgroupBarrier();
        }
        for (var i = 0; i < 4; i++) {
          let row = m0 + ty + 16 * i;
          if (row < uniforms.M) {
            for (var j = 0; j < 4; j++) {
              let nn = n0 + tx + 16 * j;
              if (nn < uniforms.N) { result[(chunk * uniforms.M + row) * uniforms.N + nn] = acc[i][j]; }
            }
          }
        }
      }
    `,
  };
}

/** out[i] = sum over c of partial[c, i]. */
function sumChunksProgram(chunks: number, size: number) {
  return {
    variableNames: ["p"],
    outputShape: [size],
    shaderKey: "massive_sum_chunks",
    dispatchLayout: { x: [0] },
    dispatch: [Math.ceil(size / 256), 1, 1],
    workgroupSize: [256, 1, 1] as [number, number, number],
    uniforms: "chunks : i32, total : i32,",
    size: false,
    getUserCode: () => `
      fn main(index : i32) {
        if (index < uniforms.total) {
          var s = 0.0;
          for (var c = 0; c < uniforms.chunks; c++) { s = s + p[c * uniforms.total + index]; }
          result[index] = s;
        }
      }
    `,
  };
}

/** Voxel chunks: enough workgroups to fill a large GPU, partial sums at most 32M floats. */
export function chunkPlan(M: number, N: number, K: number): { chunks: number; kc: number } {
  const tiles = Math.ceil(M / TILE) * Math.ceil(N / TILE);
  let chunks = Math.max(1, Math.min(Math.ceil(2048 / tiles), Math.ceil(K / 256), Math.floor((32 << 20) / (M * N))));
  const kc = Math.ceil(K / chunks / KSTEP) * KSTEP;
  chunks = Math.ceil(K / kc);
  return { chunks, kc };
}

export function conv3dFilterGradWebGpu(args: KernelArgs): Info {
  const { x, dy } = args.inputs;
  const backend = args.backend as WebGpuBackendLike;
  const { strides, pad, filterShape } = args.attrs as unknown as { strides: [number, number, number] | number; pad: "same" | "valid"; filterShape: number[] };
  const info = tf.backend_util.computeConv3DInfo(
    x.shape as [number, number, number, number, number],
    filterShape as [number, number, number, number, number],
    strides,
    1,
    pad,
  );
  const [kd, kh, kw, cin, cout] = filterShape;
  const M = kd * kh * kw * cin,
    N = cout;
  const K = info.batchSize * info.outDepth * info.outHeight * info.outWidth;
  const { chunks, kc } = chunkPlan(M, N, K);
  const uniforms = [
    M,
    N,
    K,
    kc,
    cin,
    kw,
    kh,
    info.inDepth,
    info.inHeight,
    info.inWidth,
    info.outDepth,
    info.outHeight,
    info.outWidth,
    info.strideDepth,
    info.strideHeight,
    info.strideWidth,
    info.padInfo.front,
    info.padInfo.top,
    info.padInfo.left,
  ].map(int32);
  const partial = backend.runWebGPUProgram(filterGradProgram(M, N, chunks), [x, dy], "float32", uniforms);
  const summed = backend.runWebGPUProgram(sumChunksProgram(chunks, M * N), [partial], "float32", [int32(chunks), int32(M * N)]);
  backend.disposeData(partial.dataId);
  // Same data, the filter's shape: a reshape view.
  return reshapeInfo(backend, summed, filterShape);
}
