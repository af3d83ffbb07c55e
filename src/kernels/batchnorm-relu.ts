/**
 * BatchNorm with batch statistics followed by ReLU (model/layers.ts's convBnRelu in training, and at test
 * time as the reference normalises) as one operation with its own gradient, on backends that register its
 * passes (wasm: kernels/wasm/BatchNormRelu.ts; webgpu: kernels/webgpu/BatchNormRelu.ts). Op by op it took
 * about 30 launches a layer, forward and backward, each a pass over the activations; here five passes and a
 * few [C]-sized ops.
 *
 * On wasm bit for bit the op form (on webgpu the column sums run in another order: equal to rounding):
 * the passes do the op form's float32 operations in its order, and the
 * per-channel steps between them are the very tf ops that the op form's gradient tape runs (tfjs's
 * gradients of Rsqrt, Mul, Sub, Square and Mean), so switching it on does not change training
 * (test/fused-kernels.test.ts). On by default; MASSIVE_FUSED_OPS without "batchnorm" keeps the op form
 * (fused-switch.ts).
 */
import * as tf from "@tensorflow/tfjs";
import { fusedOpEnabled } from "./fused-switch.js";

export const BN_STATISTICS = "MassiveBnStatistics";
export const BN_SCALE_SHIFT_RELU = "MassiveBnScaleShiftRelu";
export const BN_GRADIENT_SUMS = "MassiveBnGradientSums";
export const BN_SQUARE_GRADIENT_SUM = "MassiveBnSquareGradientSum";
export const BN_INPUT_GRADIENT = "MassiveBnInputGradient";
const KERNELS = [BN_STATISTICS, BN_SCALE_SHIFT_RELU, BN_GRADIENT_SUMS, BN_SQUARE_GRADIENT_SUM, BN_INPUT_GRADIENT];

/** Whether the active backend has the passes and can take x with C channels (C a multiple of 4), MASSIVE_FUSED_OPS allows "batchnorm". */
export function hasFusedBatchNormRelu(channels: number): boolean {
  const b = tf.getBackend();
  return fusedOpEnabled("batchnorm") && channels % 4 === 0 && KERNELS.every((k) => tf.getKernel(k, b) !== undefined);
}

export interface BatchNormReluResult {
  out: tf.Tensor;
  /** The batch mean and biased variance [C] (for the running averages; not on the gradient tape). */
  mean: tf.Tensor1D;
  variance: tf.Tensor1D;
}

const run = (kernel: string, inputs: Record<string, tf.Tensor>) => tf.engine().runKernel(kernel, inputs, {}) as tf.Tensor | tf.Tensor[];

/**
 * relu(gamma (x - mean) / sqrt(variance + eps) + beta), with the mean and biased variance of x over every
 * axis but the last (channels). Differentiable in x, gamma and beta.
 */
export function fusedBatchNormRelu(x: tf.Tensor, gamma: tf.Tensor1D, beta: tf.Tensor1D, eps: number): BatchNormReluResult {
  const C = x.shape[x.shape.length - 1];
  let stats: [tf.Tensor1D, tf.Tensor1D] | undefined;
  const op = tf.customGrad((input, g, b, save) => {
    const rows = tf.reshape(input as tf.Tensor, [-1, C]);
    const [mean, variance] = run(BN_STATISTICS, { x: rows }) as tf.Tensor[];
    // The op form's scale, by the same ops: gamma / sqrt(variance + eps) = rsqrt(variance + eps) gamma.
    const shifted = tf.add(variance, eps);
    const r = tf.rsqrt(shifted);
    const scale = tf.mul(r, g as tf.Tensor);
    const out = run(BN_SCALE_SHIFT_RELU, { x: rows, mean, scale, beta: b as tf.Tensor }) as tf.Tensor;
    // Kept past the forward's scope for the caller (the running averages); the caller disposes them.
    stats = [tf.keep(mean) as tf.Tensor1D, tf.keep(variance) as tf.Tensor1D];
    (save as tf.GradSaveFunc)([rows, mean, shifted, r, scale, g as tf.Tensor, b as tf.Tensor]);
    const gradFunc = (dy: tf.Tensor, saved: tf.Tensor[]) => {
      const [xs, m, v, rs, a, gs, bs] = saved;
      const n = xs.shape[0];
      const dyRows = tf.reshape(dy, [-1, C]);
      // The op form's tape, last op first. Through relu(((x - mean) scale) + beta): dbeta = sum g,
      // dscale = sum g (x - mean), and -sum g scale for the mean.
      const [dbeta, dscale, sumGa] = run(BN_GRADIENT_SUMS, { x: xs, dy: dyRows, mean: m, scale: a, beta: bs }) as tf.Tensor[];
      // scale = rsqrt(variance + eps) gamma; tfjs's Rsqrt gradient is -dy / (2 x^1.5).
      const dgamma = tf.mul(dscale, rs);
      const dShifted = tf.neg(tf.div(tf.mul(dscale, gs), tf.mul(tf.pow(v, 1.5), 2)));
      // variance = mean((x - mean)^2): Mean's gradient spreads dvariance / n over the rows.
      const k = tf.div(dShifted, n);
      const sumSquare = run(BN_SQUARE_GRADIENT_SUM, { x: xs, mean: m, k }) as tf.Tensor;
      // The mean's two gradients (through x - mean, then through the variance), then Mean's spread.
      const c0 = tf.div(tf.add(tf.neg(sumGa), tf.neg(sumSquare)), n);
      const dx = run(BN_INPUT_GRADIENT, { x: xs, dy: dyRows, mean: m, scale: a, beta: bs, k, c0 }) as tf.Tensor;
      return [tf.reshape(dx, (input as tf.Tensor).shape), dgamma, dbeta];
    };
    return { value: tf.reshape(out, (input as tf.Tensor).shape), gradFunc };
  });
  const out = op(x, gamma, beta);
  return { out, mean: stats![0], variance: stats![1] };
}
