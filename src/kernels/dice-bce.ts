/**
 * The loss's per-organ terms (model/loss.ts, "rows" Dice + BCE with logits) as two kernels, forward and
 * gradient, on backends that register them (wasm: kernels/wasm/DiceBce.ts). Op by op, these terms take
 * about 150 launches and 20 ms of a mini training step (forward and backward, 17 organs); fused, one pass
 * each way. Off unless MASSIVE_FUSED_OPS names "loss" (fused-switch.ts); model/loss.ts keeps the op form.
 */
import * as tf from "@tensorflow/tfjs";
import { fusedOpEnabled } from "./fused-switch.js";

export const DICE_BCE = "MassiveDiceBce";
export const DICE_BCE_GRAD = "MassiveDiceBceGrad";

/** rows: the number of Dice rows X; voxel v of the [V, T] inputs lies in row v mod X (layout [Z*Y, X, T]). */
export interface DiceBceAttrs {
  rows: number;
  [key: string]: number;
}

/** Whether the active backend has both kernels (MASSIVE_FUSED_OPS allows "loss"). */
export function hasFusedDiceBce(): boolean {
  const b = tf.getBackend();
  return fusedOpEnabled("loss") && tf.getKernel(DICE_BCE, b) !== undefined && tf.getKernel(DICE_BCE_GRAD, b) !== undefined;
}

/**
 * Per-organ terms [2, T] of logits x [V, T] against targets y [V, T] (0/1): row 0 the Dice loss (mean over
 * the X rows of 1 - 2 sum(p y) / (sum(p) + sum(y) + 1), p = sigmoid(x)), row 1 the BCE with logits
 * (mean over the V voxels). Differentiable in x; y is a constant.
 */
export function fusedDiceBce(x: tf.Tensor2D, y: tf.Tensor2D, rows: number): tf.Tensor2D {
  const attrs: DiceBceAttrs = { rows };
  const op = tf.customGrad((input, save) => {
    const [terms, stats, p] = tf.engine().runKernel(DICE_BCE, { x: input as tf.Tensor2D, y }, attrs) as tf.Tensor[];
    (save as tf.GradSaveFunc)([stats, p]);
    const gradFunc = (dy: tf.Tensor, saved: tf.Tensor[]) => tf.engine().runKernel(DICE_BCE_GRAD, { p: saved[1], y, stats: saved[0], dy }, attrs) as tf.Tensor;
    return { value: terms, gradFunc };
  });
  return op(x) as tf.Tensor2D;
}
