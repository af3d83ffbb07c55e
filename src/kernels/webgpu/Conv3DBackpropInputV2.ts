/**
 * Conv3DBackpropInputV2 (the input gradient of Conv3D, and the forward pass of the transposed convolution
 * of the U-Net's up path) for tfjs's webgpu backend as an implicit matrix product (implicit-gemm.ts):
 *   dx[u, ci] = sum over j = (kd, kh, kw, co) of G[u, j] * W[kd, kh, kw, ci, co],   u = (n, id, ih, iw)
 * with G[u, j] = dy[n, od, oh, ow, co] for the output voxel that reads u through filter offset
 * (kd, kh, kw): od = (id + front - kd) / sD when that divides exactly and lies inside (likewise oh, ow),
 * else 0. Checked against float64 loops in test/webgpu.test.ts.
 */
import * as tf from "@tensorflow/tfjs";
import { canStageByTap, convUniforms, implicitGemmProgram, MIN_TILE_COLUMNS, threadTile, type ImplicitA } from "./implicit-gemm.js";
import { reshapeInfo, stockWebGpuKernel, type Info, type KernelArgs, type WebGpuBackendLike } from "./webgpu-backend.js";

/** G[u, j], j = (kd, kh, kw, co): a row's padded position and batch, then a tap's offset. */
const READ_DY: ImplicitA = {
  channels: "cout",
  rowCoords: `
  let iw = row % uniforms.W;
  let ih = (row / uniforms.W) % uniforms.H;
  let id = (row / (uniforms.W * uniforms.H)) % uniforms.D;
  let n = row / (uniforms.W * uniforms.H * uniforms.D);
  return vec4<i32>(id + uniforms.front, ih + uniforms.top, iw + uniforms.left, n);`,
  readTap: `
  let pd = p.x - d;
  let ph = p.y - b;
  let pw = p.z - c;
  if (pd < 0 || ph < 0 || pw < 0 || pd % uniforms.sD != 0 || ph % uniforms.sH != 0 || pw % uniforms.sW != 0) { return 0.0; }
  let od = pd / uniforms.sD;
  let oh = ph / uniforms.sH;
  let ow = pw / uniforms.sW;
  if (od >= uniforms.oD || oh >= uniforms.oH || ow >= uniforms.oW) { return 0.0; }
  return dy[(((p.w * uniforms.oD + od) * uniforms.oH + oh) * uniforms.oW + ow) * uniforms.cout + ch];`,
};

/** B[j, ci] = W[kd, kh, kw, ci, co] for j = (kd, kh, kw, co). */
const READ_W = `
  let co = k % uniforms.cout;
  let f = k / uniforms.cout;
  return w[(f * uniforms.cin + col) * uniforms.cout + co];`;

export function conv3dInputGradWebGpu(args: KernelArgs): Info {
  const { dy, filter } = args.inputs;
  const backend = args.backend as WebGpuBackendLike;
  const { strides, pad, inputShape } = args.attrs as unknown as tf.Conv3DBackpropInputV2Attrs;
  const info = tf.backend_util.computeConv3DInfo(
    inputShape as [number, number, number, number, number],
    filter.shape as [number, number, number, number, number],
    strides,
    1,
    pad,
  );
  const [kd, kh, kw, cin, cout] = filter.shape;
  if (cin < MIN_TILE_COLUMNS) return stockWebGpuKernel(tf.Conv3DBackpropInputV2)(args) as Info;
  const R = info.batchSize * info.inDepth * info.inHeight * info.inWidth;
  const uniforms = convUniforms(info, filter.shape, R, cin, kd * kh * kw * cout);
  const flat = backend.runWebGPUProgram(
    implicitGemmProgram("massive_conv3d_input_grad", ["dy", "w"], R, cin, READ_DY, canStageByTap(cout), READ_W, threadTile(backend, cin)),
    [dy, filter],
    "float32",
    uniforms,
  );
  return reshapeInfo(backend, flat, inputShape);
}
