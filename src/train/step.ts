/**
 * One optimisation step on a batch of patches, returning what the memories observe per case:
 * the loss, the BCE term ("entropy") and the pooled feature, all from the training forward pass.
 */
import * as tf from "@tensorflow/tfjs";
import type { Patch } from "../data/augment.js";
import { oneHotTarget, partialLabelLoss, type DiceForm } from "../model/loss.js";
import type { UniversalUNet } from "../model/universal-unet.js";
import type { AdamW } from "./adamw.js";
import { readAllFloats, readScalar } from "../util/host-read.js";

export interface StepCase {
  patch: Patch;
  organs: number[];
  weights: number[];
}

export interface StepResult {
  loss: number;
  /** organLoss: each template organ's unweighted Dice + BCE, in the order of the case's organs. */
  perCase: { loss: number; entropy: number; feature: Float32Array; organLoss: Float32Array }[];
}

/** Stack patches into the model's input [B, z, y, x, 1]. */
export function patchBatch(patches: Patch[]): tf.Tensor5D {
  const [nx, ny, nz] = patches[0].shape;
  const data = new Float32Array(patches.length * nx * ny * nz);
  patches.forEach((p, i) => {
    if (p.shape.some((s, k) => s !== patches[0].shape[k])) throw new Error("all patches in a batch must have one shape");
    data.set(p.image, i * nx * ny * nz);
  });
  return tf.tensor5d(data, [patches.length, nz, ny, nx, 1]);
}

export async function trainStep(model: UniversalUNet, opt: AdamW, batch: StepCase[], lr: number, dice: DiceForm = "rows"): Promise<StepResult> {
  const ctx = { training: true, bnUpdates: [] as import("../model/layers.js").BatchNormUpdate[] };
  const kept: tf.Tensor[] = [];
  const vars = model.params.trainable;
  const x = patchBatch(batch.map((b) => b.patch));
  const targets = batch.map((b) => oneHotTarget(b.patch.label, b.patch.shape, b.organs));
  // Only the classes the batch's templates label have a loss: the model computes just those heads.
  const classes = [...new Set(batch.flatMap((b) => b.organs))].sort((a, b) => a - b);
  const { value, grads } = tf.variableGrads(() => {
    const out = model.forward(x, ctx, classes.length ? classes : undefined);
    const losses: tf.Scalar[] = [];
    batch.forEach((b, i) => {
      const logits = tf.squeeze(tf.slice(out.logits, [i, 0, 0, 0, 0], [1, -1, -1, -1, -1]), [0]) as tf.Tensor4D;
      const l = partialLabelLoss(logits, targets[i], b.organs.map((c) => classes.indexOf(c)), b.weights, dice);
      losses.push(l.loss);
      kept.push(tf.keep(tf.clone(l.loss)), tf.keep(tf.clone(l.bce)), tf.keep(tf.clone(l.perOrgan)));
    });
    kept.push(tf.keep(tf.clone(out.feature)));
    return tf.div(tf.addN(losses), batch.length) as tf.Scalar;
  }, model.params.trainableList());
  const loss = await readScalar(value);
  if (!Number.isFinite(loss)) {
    // Refuse the update: the weights in memory (and every checkpoint on disk) stay as they were.
    tf.dispose([value, x, ...targets, ...kept, ...Object.values(grads), ...ctx.bnUpdates.flatMap((u) => [u.mean, u.variance])]);
    throw new Error(`training diverged: loss is ${loss} (NaN/Inf); lower the learning rate or check the data`);
  }
  const byName = new Map<string, tf.Tensor>();
  for (const [name, v] of vars) if (grads[v.name]) byName.set(name, grads[v.name]);
  opt.apply(byName, lr);
  model.applyBatchNormUpdates(ctx);
  const host = await readAllFloats(kept);
  const feature = host[kept.length - 1];
  const fdim = feature.length / batch.length;
  const perCase = batch.map((_, i) => ({
    loss: host[3 * i][0],
    entropy: host[3 * i + 1][0],
    organLoss: host[3 * i + 2],
    feature: feature.slice(i * fdim, (i + 1) * fdim),
  }));
  tf.dispose([value, x, ...targets, ...kept, ...Object.values(grads)]);
  return { loss, perCase };
}
