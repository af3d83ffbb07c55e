/**
 * A tiled matrix product C[R, N] = A[R, K] B[K, N] for tfjs's webgpu backend whose A is never stored: a
 * WGSL expression reads each A element from a tensor (the implicit im2col of a convolution). The same
 * tiling as the filter gradient (Conv3DBackpropFilterV2.ts): a workgroup of 16 x 16 threads computes a
 * 64 x 64 tile of C (4 x 4 per thread), staging 16 values of the inner dimension of A and B at a time in
 * workgroup memory. Conv3D.ts and Conv3DBackpropInputV2.ts supply the A and B reads.
 */
import { int32 } from "./webgpu-backend.js";

const TILE = 64; // rows and columns of a workgroup's tile
const KSTEP = 16; // inner-dimension values staged per iteration

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
export type ConvUniforms = Record<(typeof CONV_UNIFORMS)[number], number>;

/**
 * The program. `readA` is WGSL that, given `row` and `k` (i32, inside the matrix), evaluates to A[row, k]
 * from the first input; `readB` likewise B[k, col] from the second (`col`).
 */
export function implicitGemmProgram(shaderKey: string, inputs: [string, string], R: number, N: number, readA: string, readB: string) {
  return {
    variableNames: inputs,
    outputShape: [R, N],
    shaderKey,
    dispatchLayout: { x: [1], y: [0] },
    dispatch: [Math.ceil(N / TILE), Math.ceil(R / TILE), 1],
    workgroupSize: [16, 16, 1] as [number, number, number],
    uniforms: CONV_UNIFORMS.map((u) => `${u} : i32,`).join(" "),
    size: false,
    getUserCode: () => `
      var<workgroup> As : array<array<f32, ${TILE}>, ${KSTEP}>;
      var<workgroup> Bs : array<array<f32, ${TILE}>, ${KSTEP}>;
      fn readA(row : i32, k : i32) -> f32 { ${readA} }
      fn readB(k : i32, col : i32) -> f32 { ${readB} }
      fn main() {
        let tx = i32(localId.x);
        let ty = i32(localId.y);
        let tid = ty * 16 + tx;
        let r0 = i32(workgroupId.y) * ${TILE};
        let n0 = i32(workgroupId.x) * ${TILE};
        var acc : array<array<f32, 4>, 4>;
        for (var i = 0; i < 4; i++) { for (var j = 0; j < 4; j++) { acc[i][j] = 0.0; } }
        // The loop bound comes from uniforms only: workgroupBarrier needs uniform control flow.
        for (var k0 = 0; k0 < uniforms.K; k0 = k0 + ${KSTEP}) {
          // Stage A[r0..r0+64, k0..k0+16] (as As[k][r]) and B[k0..k0+16, n0..n0+64]: 4 values a thread each.
          for (var l = 0; l < 4; l++) {
            let e = tid + l * 256;
            let kk = e / ${TILE};
            let mm = e % ${TILE};
            let k = k0 + kk;
            var a = 0.0;
            if (k < uniforms.K && r0 + mm < uniforms.R) { a = readA(r0 + mm, k); }
            As[kk][mm] = a;
            var b = 0.0;
            if (k < uniforms.K && n0 + mm < uniforms.N) { b = readB(k, n0 + mm); }
            Bs[kk][mm] = b;
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
          let r = r0 + ty + 16 * i;
          if (r < uniforms.R) {
            for (var j = 0; j < 4; j++) {
              let n = n0 + tx + 16 * j;
              if (n < uniforms.N) { result[r * uniforms.N + n] = acc[i][j]; }
            }
          }
        }
      }
    `,
  };
}

/** The uniforms in CONV_UNIFORMS order, as runWebGPUProgram takes them. */
export function convUniforms(u: ConvUniforms): { type: string; data: number[] }[] {
  return CONV_UNIFORMS.map((name) => int32(u[name]));
}
