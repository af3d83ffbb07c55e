/**
 * The passes of BatchNorm with batch statistics + ReLU and of its gradient on the wasm backend
 * (kernels/batchnorm-relu.ts composes them), over x as [rows, C], C a multiple of 4: the passes over the
 * activations in batchnorm-relu.wasm (SIMD). Each does the float32 operations of model/layers.ts's op form
 * in its order, so the results are the op form's bit for bit (test/fused-kernels.test.ts).
 */
import { BN_GRADIENT_SUMS, BN_INPUT_GRADIENT, BN_SCALE_SHIFT_RELU, BN_SQUARE_GRADIENT_SUM, BN_STATISTICS } from "../batchnorm-relu.js";
import { wasmBatchNormRelu, wasmColumns, wasmKernel, type TensorInfo, type WasmBackendLike } from "./wasm-backend.js";

function modules(kernel: string, backend: WasmBackendLike, rowInputs: TensorInfo[], perChannel: TensorInfo[]) {
  const columns = wasmColumns(backend);
  const bn = wasmBatchNormRelu(backend);
  if (!columns || !bn) throw new Error(`${kernel}: columns.wasm and batchnorm-relu.wasm must be built (npm run build)`);
  const [rows, C] = rowInputs[0].shape;
  for (const t of rowInputs)
    if (t.shape.length !== 2 || t.shape[0] !== rows || t.shape[1] !== C || C % 4 !== 0)
      throw new Error(`${kernel}: inputs over the activations must be one [rows, C] with C a multiple of 4, got [${t.shape}]`);
  for (const t of perChannel)
    if (t.shape.length !== 1 || t.shape[0] !== C) throw new Error(`${kernel}: per-channel input of shape [${t.shape}], expected [${C}]`);
  if ([...rowInputs, ...perChannel].some((t) => t.dtype !== "float32")) throw new Error(`${kernel}: every input must be float32`);
  return { columns, bn, rows, C };
}

const f32 = (backend: WasmBackendLike, t: TensorInfo) => backend.typedArrayFromHeap(t) as Float32Array;
const at = (backend: WasmBackendLike, t: TensorInfo) => f32(backend, t).byteOffset;

/** mean and biased variance [C] of x over its rows: tf.moments' two Means (a row-order sum times 1 / rows). */
export const bnStatisticsConfig = wasmKernel<{ x: TensorInfo }, Record<string, never>>(BN_STATISTICS, ({ inputs, backend }) => {
  const { x } = inputs;
  const { columns, bn, rows, C } = modules(BN_STATISTICS, backend, [x], []);
  const [mean, variance] = [0, 1].map(() => backend.makeOutput([C], "float32"));
  // Views taken after every allocation: growing the heap detaches older views.
  const [mv, vv] = [mean, variance].map((t) => f32(backend, t));
  const scale = 1 / rows; // as the kit's Mean kernel scales its sums (kernels/wasm/middle-sum.ts)
  columns.sumRows(mv.byteOffset, at(backend, x), 1, rows, 4 * C);
  for (let c = 0; c < C; c++) mv[c] *= scale;
  bn.sumSquaredDeviations(vv.byteOffset, at(backend, x), mv.byteOffset, rows, C);
  for (let c = 0; c < C; c++) vv[c] *= scale;
  return [mean, variance];
});

type ScaleShiftInputs = { x: TensorInfo; mean: TensorInfo; scale: TensorInfo; beta: TensorInfo };

/** out = relu((x - mean) scale + beta). */
export const bnScaleShiftReluConfig = wasmKernel<ScaleShiftInputs, Record<string, never>>(BN_SCALE_SHIFT_RELU, ({ inputs, backend }) => {
  const { x, mean, scale, beta } = inputs;
  const { bn, rows, C } = modules(BN_SCALE_SHIFT_RELU, backend, [x], [mean, scale, beta]);
  const out = backend.makeOutput([rows, C], "float32");
  const [o, xp, m, s, b] = [out, x, mean, scale, beta].map((t) => at(backend, t));
  bn.scaleShiftRelu(o, xp, m, s, b, rows, C);
  return out;
});

type GradientSumInputs = ScaleShiftInputs & { dy: TensorInfo };

/** With g = dy through the ReLU and d = x - mean: [sum g, sum g d, sum g scale] over the rows. */
export const bnGradientSumsConfig = wasmKernel<GradientSumInputs, Record<string, never>>(BN_GRADIENT_SUMS, ({ inputs, backend }) => {
  const { x, dy, mean, scale, beta } = inputs;
  const { bn, rows, C } = modules(BN_GRADIENT_SUMS, backend, [x, dy], [mean, scale, beta]);
  const outs = [0, 1, 2].map(() => backend.makeOutput([C], "float32"));
  const [sg, sgd, sga, xp, dyp, m, s, b] = [...outs, x, dy, mean, scale, beta].map((t) => at(backend, t));
  bn.gradientSums(sg, sgd, sga, xp, dyp, m, s, b, rows, C);
  return outs;
});

/** sum over the rows of k (2 d), d = x - mean. */
export const bnSquareGradientSumConfig = wasmKernel<{ x: TensorInfo; mean: TensorInfo; k: TensorInfo }, Record<string, never>>(
  BN_SQUARE_GRADIENT_SUM,
  ({ inputs, backend }) => {
    const { x, mean, k } = inputs;
    const { bn, rows, C } = modules(BN_SQUARE_GRADIENT_SUM, backend, [x], [mean, k]);
    const out = backend.makeOutput([C], "float32");
    const [o, xp, m, kp] = [out, x, mean, k].map((t) => at(backend, t));
    bn.squareGradientSum(o, xp, m, kp, rows, C);
    return out;
  },
);

/** dx = (g scale + k (2 d)) + c0. */
export const bnInputGradientConfig = wasmKernel<GradientSumInputs & { k: TensorInfo; c0: TensorInfo }, Record<string, never>>(
  BN_INPUT_GRADIENT,
  ({ inputs, backend }) => {
    const { x, dy, mean, scale, beta, k, c0 } = inputs;
    const { bn, rows, C } = modules(BN_INPUT_GRADIENT, backend, [x, dy], [mean, scale, beta, k, c0]);
    const dx = backend.makeOutput([rows, C], "float32");
    const [o, xp, dyp, m, s, b, kp, cp] = [dx, x, dy, mean, scale, beta, k, c0].map((t) => at(backend, t));
    bn.inputGradient(o, xp, dyp, m, s, b, kp, cp, rows, C);
    return dx;
  },
);
