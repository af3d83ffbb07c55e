/**
 * One optimisation step on a batch of patches, returning what the memories observe per case:
 * the loss, the BCE term ("entropy") and the pooled feature, all from the training forward pass.
 */
import * as tf from "@tensorflow/tfjs";
import type { Patch } from "../data/augment.js";
import { oneHotTarget, partialLabelLoss, type DiceForm } from "../model/loss.js";
import type { ForwardContext } from "../model/layers.js";
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

/** A step's forward and backward pass, before the update: what trainStep applies and reads. */
interface Gradients {
  value: tf.Scalar;
  grads: tf.NamedTensorMap;
  /** Per rank: its cases' loss, BCE and per-organ losses (3 per case), then its pooled features. */
  kept: tf.Tensor[];
  /** Per rank, the batch statistics its forward pass recorded. */
  ctxs: ForwardContext[];
  inputs: tf.Tensor[];
}

/**
 * Loss and gradients of one step over `ranks` consecutive, equal groups of the batch, one group per
 * emulated data-parallel rank: each group has its own forward pass, so its BatchNorm normalises with that
 * rank's own batch statistics (DDP without SyncBatchNorm), and the loss is the mean over all cases, i.e.
 * the mean of the ranks' mean losses (DDP averages the ranks' gradients). One rank is one forward pass
 * over the whole batch.
 */
function gradients(model: UniversalUNet, batch: StepCase[], dice: DiceForm, ranks: number): Gradients {
  if (!(Number.isInteger(ranks) && ranks >= 1 && batch.length % ranks === 0))
    throw new Error(`trainStep: ${batch.length} cases do not split into ${ranks} equal rank batches`);
  const per = batch.length / ranks;
  const groups = Array.from({ length: ranks }, (_, g) => batch.slice(g * per, (g + 1) * per));
  const ctxs: ForwardContext[] = groups.map(() => ({ training: true, bnUpdates: [] }));
  const kept: tf.Tensor[] = [];
  const xs = groups.map((g) => patchBatch(g.map((b) => b.patch)));
  const targets = batch.map((b) => oneHotTarget(b.patch.label, b.patch.shape, b.organs));
  const { value, grads } = tf.variableGrads(() => {
    const losses: tf.Scalar[] = [];
    groups.forEach((group, g) => {
      // Only the classes the rank's templates label have a loss: the model computes just those heads.
      const classes = [...new Set(group.flatMap((b) => b.organs))].sort((a, b) => a - b);
      const out = model.forward(xs[g], ctxs[g], classes.length ? classes : undefined);
      group.forEach((b, j) => {
        const logits = tf.squeeze(tf.slice(out.logits, [j, 0, 0, 0, 0], [1, -1, -1, -1, -1]), [0]) as tf.Tensor4D;
        const l = partialLabelLoss(
          logits,
          targets[g * per + j],
          b.organs.map((c) => classes.indexOf(c)),
          b.weights,
          dice,
        );
        losses.push(l.loss);
        kept.push(tf.keep(tf.clone(l.loss)), tf.keep(tf.clone(l.bce)), tf.keep(tf.clone(l.perOrgan)));
      });
      kept.push(tf.keep(tf.clone(out.feature)));
    });
    return tf.div(tf.addN(losses), batch.length) as tf.Scalar;
  }, model.params.trainableList());
  return { value, grads, kept, ctxs, inputs: [...xs, ...targets] };
}

function disposeGradients(g: Gradients): void {
  tf.dispose([g.value, ...g.inputs, ...g.kept, ...Object.values(g.grads), ...g.ctxs.flatMap((c) => c.bnUpdates.flatMap((u) => [u.mean, u.variance]))]);
}

/**
 * The step's loss and gradients by parameter name, read to the host, without updating anything: for
 * tests that check what a step of `ranks` ranks averages.
 */
export async function stepGradients(
  model: UniversalUNet,
  batch: StepCase[],
  dice: DiceForm = "rows",
  ranks = 1,
): Promise<{ loss: number; grads: Map<string, Float32Array> }> {
  const g = gradients(model, batch, dice, ranks);
  try {
    const names = [...model.params.trainable].filter(([, v]) => g.grads[v.name]);
    const host = await readAllFloats(names.map(([, v]) => g.grads[v.name]));
    return { loss: await readScalar(g.value), grads: new Map(names.map(([name], i) => [name, host[i]])) };
  } finally {
    disposeGradients(g);
  }
}

/**
 * One optimiser step. `ranks` > 1 emulates the paper's data-parallel GPUs: the batch is `ranks` equal
 * consecutive groups (rank 0's cases first), each normalised by its own BatchNorm statistics, and the
 * update uses the mean gradient. The running BatchNorm averages follow rank 0's statistics, as DDP's
 * default `broadcast_buffers` copies rank 0's buffers to every rank at each forward.
 */
export async function trainStep(model: UniversalUNet, opt: AdamW, batch: StepCase[], lr: number, dice: DiceForm = "rows", ranks = 1): Promise<StepResult> {
  const g = gradients(model, batch, dice, ranks);
  const loss = await readScalar(g.value);
  if (!Number.isFinite(loss)) {
    // Refuse the update: the weights in memory (and every checkpoint on disk) stay as they were.
    disposeGradients(g);
    throw new Error(`training diverged: loss is ${loss} (NaN/Inf); lower the learning rate or check the data`);
  }
  const byName = new Map<string, tf.Tensor>();
  for (const [name, v] of model.params.trainable) if (g.grads[v.name]) byName.set(name, g.grads[v.name]);
  opt.apply(byName, lr);
  model.applyBatchNormUpdates(g.ctxs[0]);
  const host = await readAllFloats(g.kept);
  const per = batch.length / ranks;
  const perCase = batch.map((_, i) => {
    // Rank r's block in `kept`: 3 tensors per case, then the rank's features [per, fdim].
    const r = Math.floor(i / per),
      j = i % per,
      base = r * (3 * per + 1);
    const feature = host[base + 3 * per];
    const fdim = feature.length / per;
    return {
      loss: host[base + 3 * j][0],
      entropy: host[base + 3 * j + 1][0],
      organLoss: host[base + 3 * j + 2],
      feature: feature.slice(j * fdim, (j + 1) * fdim),
    };
  });
  disposeGradients(g);
  return { loss, perCase };
}
