/**
 * BatchNorm with batch statistics + ReLU and its gradient on the wasm backend (kernels/batchnorm-relu.ts),
 * over x as [rows, C], C a multiple of 4: the passes over the activations in batchnorm-relu.wasm (SIMD),
 * the per-channel arithmetic here in float64.
 *
 * Forward outputs: out [rows, C], the batch mean and biased variance [C], and scale = gamma / sqrt(variance
 * + eps) [C]. Gradient outputs: dx [rows, C], dgamma [C], dbeta [C].
 */
import { BATCH_NORM_RELU, BATCH_NORM_RELU_GRAD, type BatchNormReluAttrs } from "../batchnorm-relu.js";
import { wasmBatchNormRelu, wasmColumns, wasmKernel, type TensorInfo, type WasmBackendLike } from "./wasm-backend.js";

function modules(kernel: string, backend: WasmBackendLike, x: TensorInfo, perChannel: TensorInfo[]) {
  const columns = wasmColumns(backend);
  const bn = wasmBatchNormRelu(backend);
  if (!columns || !bn) throw new Error(`${kernel}: columns.wasm and batchnorm-relu.wasm must be built (npm run build)`);
  const [rows, C] = x.shape;
  if (x.shape.length !== 2 || C % 4 !== 0) throw new Error(`${kernel}: x must be [rows, C] with C a multiple of 4, got [${x.shape}]`);
  for (const t of perChannel)
    if (t.shape.length !== 1 || t.shape[0] !== C) throw new Error(`${kernel}: per-channel input of shape [${t.shape}], expected [${C}]`);
  if ([x, ...perChannel].some((t) => t.dtype !== "float32")) throw new Error(`${kernel}: every input must be float32`);
  return { columns, bn, rows, C };
}

const f32 = (backend: WasmBackendLike, t: TensorInfo) => backend.typedArrayFromHeap(t) as Float32Array;

type ForwardInputs = { x: TensorInfo; gamma: TensorInfo; beta: TensorInfo };

export const batchNormReluConfig = wasmKernel<ForwardInputs, BatchNormReluAttrs>(BATCH_NORM_RELU, ({ inputs, attrs, backend }) => {
  const { x, gamma, beta } = inputs;
  const { columns, bn, rows, C } = modules(BATCH_NORM_RELU, backend, x, [gamma, beta]);
  const [out, mean, variance, scale] = [[rows, C], [C], [C], [C]].map((shape) => backend.makeOutput(shape, "float32"));
  // Pointers and views taken after every allocation: growing the heap detaches older views.
  const [xv, ov, mv, vv, sv, gv, bv] = [x, out, mean, variance, scale, gamma, beta].map((t) => f32(backend, t));
  columns.sumRows(mv.byteOffset, xv.byteOffset, 1, rows, 4 * C);
  for (let c = 0; c < C; c++) mv[c] /= rows;
  bn.sumSquaredDeviations(vv.byteOffset, xv.byteOffset, mv.byteOffset, rows, C);
  for (let c = 0; c < C; c++) {
    vv[c] /= rows;
    sv[c] = gv[c] / Math.sqrt(vv[c] + attrs.eps);
  }
  bn.scaleShiftRelu(ov.byteOffset, xv.byteOffset, mv.byteOffset, sv.byteOffset, bv.byteOffset, rows, C);
  return [out, mean, variance, scale];
});

type GradInputs = { x: TensorInfo; dy: TensorInfo; mean: TensorInfo; variance: TensorInfo; scale: TensorInfo; gamma: TensorInfo; beta: TensorInfo };

export const batchNormReluGradConfig = wasmKernel<GradInputs, BatchNormReluAttrs>(BATCH_NORM_RELU_GRAD, ({ inputs, attrs, backend }) => {
  const { x, dy, mean, variance, scale, gamma, beta } = inputs;
  const { bn, rows, C } = modules(BATCH_NORM_RELU_GRAD, backend, x, [mean, variance, scale, gamma, beta]);
  if (dy.shape.join() !== x.shape.join()) throw new Error(`${BATCH_NORM_RELU_GRAD}: dy [${dy.shape}] does not match x [${x.shape}]`);
  const [dx, dgamma, dbeta, k1, k2, k3] = [[rows, C], [C], [C], [C], [C], [C]].map((shape) => backend.makeOutput(shape, "float32"));
  const [xv, dyv, mv, vv, sv, gv, bv, dxv, dgv, dbv, k1v, k2v, k3v] = [x, dy, mean, variance, scale, gamma, beta, dx, dgamma, dbeta, k1, k2, k3].map((t) =>
    f32(backend, t),
  );
  // g = dy through the ReLU; d = x - mean; with s = 1 / sqrt(variance + eps), xhat = d s:
  // dbeta = sum g, dgamma = s sum(g d), dx = gamma s (g - sum(g) / N - xhat s sum(g d) / N).
  bn.gradientSums(dbv.byteOffset, dgv.byteOffset, xv.byteOffset, dyv.byteOffset, mv.byteOffset, sv.byteOffset, bv.byteOffset, rows, C);
  for (let c = 0; c < C; c++) {
    const s = 1 / Math.sqrt(vv[c] + attrs.eps);
    const sumG = dbv[c];
    const sumGd = dgv[c];
    dgv[c] = s * sumGd;
    k1v[c] = gv[c] * s;
    k2v[c] = (-gv[c] * s * s * s * sumGd) / rows;
    k3v[c] = (-gv[c] * s * sumG) / rows;
  }
  bn.inputGradient(
    dxv.byteOffset,
    xv.byteOffset,
    dyv.byteOffset,
    mv.byteOffset,
    sv.byteOffset,
    bv.byteOffset,
    k1v.byteOffset,
    k2v.byteOffset,
    k3v.byteOffset,
    rows,
    C,
  );
  for (const k of [k1, k2, k3]) backend.disposeData(k.dataId, true);
  return [dx, dgamma, dbeta];
});
