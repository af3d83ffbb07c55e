/** Building blocks on NDHWC tensors: 3x3x3 conv + BatchNorm + ReLU, GroupNorm, transposed conv. */
import * as tf from "@tensorflow/tfjs";
import { fusedBatchNormRelu, hasFusedBatchNormRelu } from "../kernels/batchnorm-relu.js";
import type { ParamStore } from "./params.js";

export interface BatchNormUpdate {
  name: string;
  mean: tf.Tensor1D;
  variance: tf.Tensor1D;
}

/** Forward-pass context: training mode uses batch statistics and records them for the running averages. */
export interface ForwardContext {
  training: boolean;
  bnUpdates: BatchNormUpdate[];
  /** Not training: normalise with the batch's own statistics (the reference's ContBatchNorm3d). */
  batchStatistics?: boolean;
}

export const BN_MOMENTUM = 0.1; // PyTorch's default
const BN_EPS = 1e-5;

/**
 * cin may list several inputs (e.g. upsampled and skip features): the filter over their channel
 * concatenation is kept as one block per input, so no concat or slice is needed at run time.
 */
export function defineConvBnRelu(p: ParamStore, name: string, cin: number | number[], cout: number): void {
  const parts = Array.isArray(cin) ? cin : [cin];
  const fanIn = 27 * parts.reduce((a, b) => a + b, 0);
  parts.forEach((c, i) => p.weight(`${name}.conv.w${parts.length > 1 ? i : ""}`, [3, 3, 3, c, cout], fanIn));
  p.bias(`${name}.conv.b`, [cout], fanIn);
  p.constant(`${name}.bn.gamma`, [cout], 1);
  p.constant(`${name}.bn.beta`, [cout], 0);
  p.constant(`${name}.bn.runMean`, [cout], 0, false);
  p.constant(`${name}.bn.runVar`, [cout], 1, false);
}

/**
 * Models Genesis "LUConv": conv3d(k3, pad 1) + BatchNorm3d + ReLU. Given several inputs, convolves their
 * channel concatenation (each input with its slice of the filter, summed).
 */
export function convBnRelu(p: ParamStore, name: string, input: tf.Tensor5D | tf.Tensor5D[], ctx: ForwardContext): tf.Tensor5D {
  const parts = Array.isArray(input) ? input : [input];
  const convs = parts.map((x, i) => {
    const w = p.get(`${name}.conv.w${parts.length > 1 ? i : ""}`) as tf.Tensor5D;
    if (x.shape[4] !== w.shape[3]) throw new Error(`${name}: input ${i} has ${x.shape[4]} channels, its filter expects ${w.shape[3]}`);
    return tf.conv3d(x, w, 1, "same");
  });
  const y = tf.add(convs.length === 1 ? convs[0] : tf.addN(convs), p.get(`${name}.conv.b`)) as tf.Tensor5D;
  const batchStatistics = ctx.training || ctx.batchStatistics === true;
  if (batchStatistics && hasFusedBatchNormRelu(y.shape[4])) {
    const r = fusedBatchNormRelu(y, p.get(`${name}.bn.gamma`) as tf.Tensor1D, p.get(`${name}.bn.beta`) as tf.Tensor1D, BN_EPS);
    if (ctx.training) ctx.bnUpdates.push({ name, mean: r.mean, variance: tf.keep(unbiased(r.variance, y)) as tf.Tensor1D });
    else r.mean.dispose();
    r.variance.dispose();
    return r.out as tf.Tensor5D;
  }
  let mean: tf.Tensor;
  let variance: tf.Tensor;
  if (ctx.training) {
    const m = tf.moments(y, [0, 1, 2, 3]);
    mean = m.mean;
    variance = m.variance;
    // Running statistics are updated after the step from these (unbiased variance, as PyTorch does).
    ctx.bnUpdates.push({ name, mean: tf.keep(tf.clone(mean)) as tf.Tensor1D, variance: tf.keep(unbiased(variance, y)) as tf.Tensor1D });
  } else if (ctx.batchStatistics) {
    ({ mean, variance } = tf.moments(y, [0, 1, 2, 3]));
  } else {
    mean = p.get(`${name}.bn.runMean`);
    variance = p.get(`${name}.bn.runVar`);
  }
  // Written out rather than tf.batchNorm: tfjs's batchNorm gradient only handles inputs up to rank 4.
  const scale = tf.mul(tf.rsqrt(tf.add(variance, BN_EPS)), p.get(`${name}.bn.gamma`));
  const normed = tf.add(tf.mul(tf.sub(y, mean), scale), p.get(`${name}.bn.beta`));
  return tf.relu(normed) as tf.Tensor5D;
}

/** The unbiased variance (as PyTorch's running average takes it) from the biased one of y's batch. */
function unbiased(variance: tf.Tensor, y: tf.Tensor5D): tf.Tensor {
  const n = y.shape[0] * y.shape[1] * y.shape[2] * y.shape[3];
  return tf.mul(variance, n / Math.max(1, n - 1));
}

/** Apply recorded batch statistics to the running averages (outside any gradient tape). */
export function applyBatchNormUpdates(p: ParamStore, updates: BatchNormUpdate[]): void {
  tf.tidy(() => {
    for (const u of updates) {
      const rm = p.get(`${u.name}.bn.runMean`);
      const rv = p.get(`${u.name}.bn.runVar`);
      rm.assign(tf.add(tf.mul(rm, 1 - BN_MOMENTUM), tf.mul(u.mean, BN_MOMENTUM)));
      rv.assign(tf.add(tf.mul(rv, 1 - BN_MOMENTUM), tf.mul(u.variance, BN_MOMENTUM)));
    }
  });
  for (const u of updates) tf.dispose([u.mean, u.variance]);
  updates.length = 0;
}

/** Largest group count <= 16 that divides the channels (16 for the paper's widths). */
export function groupsFor(channels: number): number {
  for (let g = Math.min(16, channels); g >= 1; g--) if (channels % g === 0) return g;
  return 1;
}

export function defineGroupNorm(p: ParamStore, name: string, c: number): void {
  p.constant(`${name}.gamma`, [c], 1);
  p.constant(`${name}.beta`, [c], 0);
}

/** GroupNorm over any NDHWC (or N...C) tensor. */
export function groupNorm(p: ParamStore, name: string, x: tf.Tensor, eps = 1e-5): tf.Tensor {
  const shape = x.shape;
  const c = shape[shape.length - 1];
  const g = groupsFor(c);
  const n = shape[0];
  const spatial = shape.slice(1, -1).reduce((a, b) => a * b, 1);
  const r = tf.reshape(x, [n, spatial, g, c / g]);
  const { mean, variance } = tf.moments(r, [1, 3], true);
  const normed = tf.reshape(tf.div(tf.sub(r, mean), tf.sqrt(tf.add(variance, eps))), shape);
  return tf.add(tf.mul(normed, p.get(`${name}.gamma`)), p.get(`${name}.beta`));
}

export function defineConvTranspose(p: ParamStore, name: string, cin: number, cout: number): void {
  // tfjs conv3dTranspose filters are [d, h, w, outChannels, inChannels]. PyTorch's ConvTranspose3d weight
  // is [in, out, k, k, k] and its fan-in is computed from dimension 1, i.e. 8 * out.
  p.weight(`${name}.w`, [2, 2, 2, cout, cin], p.init === "he" ? 8 * cin : 8 * cout);
  p.bias(`${name}.b`, [cout], 8 * cout);
}

/** Transposed convolution, kernel 2, stride 2: doubles every spatial size. */
export function convTranspose(p: ParamStore, name: string, x: tf.Tensor5D): tf.Tensor5D {
  const [b, d, h, w] = x.shape;
  const wt = p.get(`${name}.w`) as tf.Tensor5D;
  const cout = wt.shape[3];
  const y = tf.conv3dTranspose(x, wt, [b, 2 * d, 2 * h, 2 * w, cout], 2, "valid");
  return tf.add(y, p.get(`${name}.b`)) as tf.Tensor5D;
}
