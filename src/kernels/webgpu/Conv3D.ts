/**
 * Conv3D for tfjs's webgpu backend as an implicit-im2col matrix product (implicit-gemm.ts):
 *   y[v, co] = sum over m = (kd, kh, kw, ci) of X[v, m] * W[m, co],   v = (n, od, oh, ow)
 * with X[v, m] = x[n, od*sD - front + kd, oh*sH - top + kh, ow*sW - left + kw, ci] (0 outside). The
 * stock shader computes each output element alone, reading its whole receptive field from memory.
 * Checked against float64 loops in test/webgpu.test.ts.
 */
import * as tf from "@tensorflow/tfjs";
import { canStageByTap, convUniforms, implicitGemmProgram, MIN_TILE_COLUMNS, threadTile, type ImplicitA } from "./implicit-gemm.js";
import { reshapeInfo, stockWebGpuKernel, type Info, type KernelArgs, type WebGpuBackendLike } from "./webgpu-backend.js";

/** X[v, m], m = (kd, kh, kw, ci): a row's corner of its receptive field and batch, then a tap's offset. */
const READ_X: ImplicitA = {
  channels: "cin",
  rowCoords: `
  let ow = row % uniforms.oW;
  let oh = (row / uniforms.oW) % uniforms.oH;
  let od = (row / (uniforms.oW * uniforms.oH)) % uniforms.oD;
  let n = row / (uniforms.oW * uniforms.oH * uniforms.oD);
  return vec4<i32>(od * uniforms.sD - uniforms.front, oh * uniforms.sH - uniforms.top, ow * uniforms.sW - uniforms.left, n);`,
  readTap: `
  let id = p.x + d;
  let ih = p.y + b;
  let iw = p.z + c;
  if (id < 0 || id >= uniforms.D || ih < 0 || ih >= uniforms.H || iw < 0 || iw >= uniforms.W) { return 0.0; }
  return x[(((p.w * uniforms.D + id) * uniforms.H + ih) * uniforms.W + iw) * uniforms.cin + ch];`,
};

/** W [kd, kh, kw, cin, cout] is already the [m, co] matrix. */
const READ_W = `return w[k * uniforms.cout + col];`;

export function conv3dWebGpu(args: KernelArgs): Info {
  const { x, filter } = args.inputs;
  const backend = args.backend as WebGpuBackendLike;
  const { strides, pad, dilations } = args.attrs as unknown as tf.Conv3DAttrs;
  const info = tf.backend_util.computeConv3DInfo(
    x.shape as [number, number, number, number, number],
    filter.shape as [number, number, number, number, number],
    strides,
    dilations,
    pad,
  );
  if (info.dilationDepth !== 1 || info.dilationHeight !== 1 || info.dilationWidth !== 1)
    throw new Error("Conv3D (webgpu, the kit's kernel): dilations are not supported");
  const [kd, kh, kw, cin, cout] = filter.shape;
  if (cout < MIN_TILE_COLUMNS) return stockWebGpuKernel(tf.Conv3D)(args) as Info;
  const R = info.batchSize * info.outDepth * info.outHeight * info.outWidth;
  const uniforms = convUniforms(info, filter.shape, R, cout, kd * kh * kw * cin);
  const flat = backend.runWebGPUProgram(
    implicitGemmProgram("massive_conv3d", ["x", "w"], R, cout, READ_X, canStageByTap(cin), READ_W, threadTile(backend, cout)),
    [x, filter],
    "float32",
    uniforms,
  );
  return reshapeInfo(backend, flat, info.outShape);
}
