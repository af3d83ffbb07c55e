/**
 * BatchNorm with batch statistics followed by ReLU (model/layers.ts's convBnRelu in training, and at test
 * time as the reference normalises) as one operation with its own gradient, on backends that register
 * its two kernels (wasm: kernels/wasm/BatchNormRelu.ts). Op by op it took about 30 launches a layer,
 * forward and backward. Off unless MASSIVE_FUSED_OPS names "batchnorm" (fused-switch.ts); model/layers.ts
 * keeps the op form.
 */
import * as tf from "@tensorflow/tfjs";
import { fusedOpEnabled } from "./fused-switch.js";

export const BATCH_NORM_RELU = "MassiveBatchNormRelu";
export const BATCH_NORM_RELU_GRAD = "MassiveBatchNormReluGrad";

export interface BatchNormReluAttrs {
  eps: number;
  [key: string]: number;
}

/** Whether the active backend has both kernels and can take x with C channels (C a multiple of 4), MASSIVE_FUSED_OPS allows "batchnorm". */
export function hasFusedBatchNormRelu(channels: number): boolean {
  const b = tf.getBackend();
  return (
    fusedOpEnabled("batchnorm") && channels % 4 === 0 && tf.getKernel(BATCH_NORM_RELU, b) !== undefined && tf.getKernel(BATCH_NORM_RELU_GRAD, b) !== undefined
  );
}

export interface BatchNormReluResult {
  out: tf.Tensor;
  /** The batch mean and biased variance [C] (for the running averages; not on the gradient tape). */
  mean: tf.Tensor1D;
  variance: tf.Tensor1D;
}

/**
 * relu(gamma (x - mean) / sqrt(variance + eps) + beta), with the mean and biased variance of x over every
 * axis but the last (channels). Differentiable in x, gamma and beta.
 */
export function fusedBatchNormRelu(x: tf.Tensor, gamma: tf.Tensor1D, beta: tf.Tensor1D, eps: number): BatchNormReluResult {
  const C = x.shape[x.shape.length - 1];
  const attrs: BatchNormReluAttrs = { eps };
  let stats: [tf.Tensor1D, tf.Tensor1D] | undefined;
  const op = tf.customGrad((input, g, b, save) => {
    const rows = tf.reshape(input as tf.Tensor, [-1, C]);
    const [out, mean, variance, scale] = tf.engine().runKernel(BATCH_NORM_RELU, { x: rows, gamma: g as tf.Tensor, beta: b as tf.Tensor }, attrs) as tf.Tensor[];
    // Kept past the forward's scope for the caller (the running averages); the caller disposes them.
    stats = [tf.keep(mean) as tf.Tensor1D, tf.keep(variance) as tf.Tensor1D];
    (save as tf.GradSaveFunc)([rows, mean, variance, scale, g as tf.Tensor, b as tf.Tensor]);
    const gradFunc = (dy: tf.Tensor, saved: tf.Tensor[]) => {
      const [xs, m, v, a, gs, bs] = saved;
      const grads = tf
        .engine()
        .runKernel(BATCH_NORM_RELU_GRAD, { x: xs, dy: tf.reshape(dy, [-1, C]), mean: m, variance: v, scale: a, gamma: gs, beta: bs }, attrs) as tf.Tensor[];
      return [tf.reshape(grads[0], (input as tf.Tensor).shape), grads[1], grads[2]];
    };
    return { value: tf.reshape(out, (input as tf.Tensor).shape), gradFunc };
  });
  const out = op(x, gamma, beta);
  return { out, mean: stats![0], variance: stats![1] };
}
