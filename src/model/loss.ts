/**
 * Partial-label loss per case (docs/method.md#the-loss): over the organs of the case's label template only,
 * mean of per-organ Dice loss plus mean of per-organ BCE, each organ's term weighted by the case's
 * organ ratio. The BCE term is also the case's "entropy" (the uncertainty the memories store).
 */
import * as tf from "@tensorflow/tfjs";
import { hasClass } from "../data/post-label.js";
import { fusedDiceBce, hasFusedDiceBce } from "../kernels/dice-bce.js";

/**
 * Organ-ratio weights for the template organs of one case, from voxel counts over the whole case:
 * ratio_c = (voxels of all template organs) / (voxels of organ c), 0 where c is absent; scaled so the
 * ratios sum to the number of template organs; ratios in (0, 1) raised to 1.
 */
export function organRatioWeights(counts: ReadonlyMap<number, number>, organs: readonly number[]): number[] {
  const total = organs.reduce((s, c) => s + (counts.get(c) ?? 0), 0);
  const ratio = organs.map((c) => {
    const n = counts.get(c) ?? 0;
    return n > 0 ? total / n : 0;
  });
  const sum = ratio.reduce((a, b) => a + b, 0);
  if (sum === 0) return ratio; // no template organ in this case: nothing to learn from it
  return ratio.map((r) => {
    const w = (r * organs.length) / sum;
    return w > 0 && w < 1 ? 1 : w;
  });
}

export interface CaseLoss {
  /** Dice + BCE (weighted), scalar. */
  loss: tf.Scalar;
  /** The weighted BCE term alone, scalar. */
  bce: tf.Scalar;
  /** Each template organ's unweighted Dice + BCE, [T] (learning curves per organ). */
  perOrgan: tf.Tensor1D;
}

/**
 * "rows": the reference's BinaryDiceLoss (utils/loss.py): one organ channel viewed as rows along its first
 * spatial axis (x, the kit's last tensor axis), per row 2*sum(p*t) / (sum(p) + sum(t) + 1), loss = mean
 * over rows of 1 - dice. "squared": the kit's first form, one Dice over the whole patch with squared
 * denominators and smooth 1e-5 (kept for comparison; with it the mini networks barely learned).
 */
export type DiceForm = "rows" | "squared";

const SQUARED_SMOOTH = 1e-5;

/** Per-organ Dice loss [T] of probabilities p and targets y, both [Z*Y, X, T]. */
function diceLoss(p: tf.Tensor3D, y: tf.Tensor3D, form: DiceForm): tf.Tensor1D {
  if (form === "squared") {
    const num = tf.add(tf.mul(2, tf.sum(tf.mul(p, y), [0, 1])), SQUARED_SMOOTH);
    const den = tf.add(tf.add(tf.sum(tf.square(p), [0, 1]), tf.sum(tf.square(y), [0, 1])), SQUARED_SMOOTH);
    return tf.sub(1, tf.div(num, den));
  }
  const num = tf.mul(2, tf.sum(tf.mul(p, y), 0)); // [X, T]
  const den = tf.add(tf.add(tf.sum(p, 0), tf.sum(y, 0)), 1);
  return tf.mean(tf.sub(1, tf.div(num, den)), 0);
}

/** Per-organ Dice loss and BCE [T] each of logits x and targets y [V, T], op by op (kernels/dice-bce.ts fuses the "rows" form). */
export function diceBceOps(x: tf.Tensor2D, y: tf.Tensor2D, X: number, dice: DiceForm): [tf.Tensor1D, tf.Tensor1D] {
  const T = x.shape[1];
  const p = tf.sigmoid(x);
  const diceT = diceLoss(tf.reshape(p, [-1, X, T]) as tf.Tensor3D, tf.reshape(y, [-1, X, T]) as tf.Tensor3D, dice);
  // BCE with logits, numerically stable: max(x, 0) - x*y + log(1 + exp(-|x|)).
  const bceVox = tf.add(tf.sub(tf.relu(x), tf.mul(x, y)), tf.log1p(tf.exp(tf.neg(tf.abs(x)))));
  return [diceT, tf.mean(bceVox, 0) as tf.Tensor1D];
}

/**
 * Loss of one case. logits [D, H, W, C] (D = z, H = y, W = x); target one-hot of the template organs
 * [D, H, W, T] (float); organ indices (0-based channels of logits) [T]; weights [T].
 */
export function partialLabelLoss(logits: tf.Tensor4D, target: tf.Tensor4D, organChannels: number[], weights: number[], dice: DiceForm = "rows"): CaseLoss {
  const T = organChannels.length;
  if (T === 0) throw new Error("partialLabelLoss: the template has no organs");
  // Select the template's channels with a 0/1 matrix product: tfjs-wasm has no gradient kernel for gather.
  const C = logits.shape[3];
  const selection = new Float32Array(C * T);
  organChannels.forEach((ch, k) => (selection[ch * T + k] = 1));
  const x = tf.matMul(tf.reshape(logits, [-1, C]), tf.tensor2d(selection, [C, T])) as tf.Tensor2D; // [V, T]
  const y = tf.reshape(target, [-1, T]) as tf.Tensor2D;
  const X = logits.shape[2];
  const [diceT, bce] = dice === "rows" && hasFusedDiceBce() ? (tf.unstack(fusedDiceBce(x, y, X)) as [tf.Tensor1D, tf.Tensor1D]) : diceBceOps(x, y, X, dice);
  const w = tf.tensor1d(weights);
  const diceTerm = tf.div(tf.sum(tf.mul(w, diceT)), T);
  const bceTerm = tf.div(tf.sum(tf.mul(w, bce)), T) as tf.Scalar;
  return { loss: tf.add(diceTerm, bceTerm) as tf.Scalar, bce: bceTerm, perOrgan: tf.add(diceT, bce) as tf.Tensor1D };
}

/** Multi-hot target [D, H, W, T] of the given class ids from a patch of post-label codes (x fastest). */
export function oneHotTarget(label: Uint8Array, shape: [number, number, number], organs: readonly number[]): tf.Tensor4D {
  const [nx, ny, nz] = shape;
  const T = organs.length;
  // Tensor layout [D=z, H=y, W=x, T] so that a patch's x-fastest order is the tensor's row-major order.
  // Multi-hot: a tumour voxel inside an organ is 1 in both channels (post labels, src/data/post-label.ts).
  const out = new Float32Array(label.length * T);
  for (let i = 0; i < label.length; i++) {
    const v = label[i];
    if (v) for (let k = 0; k < T; k++) if (hasClass(v, organs[k])) out[i * T + k] = 1;
  }
  return tf.tensor4d(out, [nz, ny, nx, T]);
}
