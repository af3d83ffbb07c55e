/**
 * The network of docs/method.md#the-model: a Models Genesis 3D U-Net backbone (4 levels of two
 * conv+BN+ReLU, max-pool between, transposed-conv k2 s2 up path with skip concatenation) and the
 * Universal Model head (CLIP class embeddings -> per-class dynamic 8-8-8-1 convolution heads).
 * Widths are configurable: the paper's [32, 64, 128, 256, 512] or narrow ones for CPU.
 * Layout NDHWC; input [B, D, H, W, 1]; outputs 32 logits per voxel and the 256-d pooled feature.
 */
import * as tf from "@tensorflow/tfjs";
import { NUM_CLASSES } from "../data/ontology.js";
import { canFuseHeads, fusedDynamicHeads } from "../kernels/dynamic-heads.js";
import {
  applyBatchNormUpdates,
  convBnRelu,
  convTranspose,
  defineConvBnRelu,
  defineConvTranspose,
  defineGroupNorm,
  groupNorm,
  type ForwardContext,
} from "./layers.js";
import { ParamStore, type InitScheme } from "./params.js";
import type { Widths } from "../profiles.js";

export interface ModelConfig {
  /** Channel widths (the profile's; src/profiles.ts). */
  widths: Widths;
  /** Pooled feature size (256 in the Universal Model). */
  featureDim: number;
  /** Channels of the per-class dynamic head (8). */
  headChannels: number;
  seed: number;
  /** Weight initialisation (default "pytorch", as the reference). */
  init?: InitScheme;
  /**
   * BatchNorm statistics at inference: "batch" normalises every window by its own statistics, as the
   * reference's ContBatchNorm3d does in training and at test time (default); "running" uses the running
   * averages (PyTorch's usual eval mode).
   */
  inferenceBatchNorm?: "batch" | "running";
}

/** Weights and biases of one class's dynamic head: 8x8, 8x8, 8x1 convs. */
export function dynamicParamCount(h: number): number {
  return h * h + h * h + h + h + h + 1;
}

export interface ModelOutput {
  /** [B, D, H, W, 32] */
  logits: tf.Tensor5D;
  /** [B, featureDim] (not normalised) */
  feature: tf.Tensor2D;
}

export class UniversalUNet {
  readonly params: ParamStore;
  private readonly textEmbedding: tf.Tensor2D;

  constructor(
    readonly config: ModelConfig,
    /** [32, 512] CLIP embeddings of the class names (assets/txt_encoding.json). */
    textEmbedding: number[][],
  ) {
    if (textEmbedding.length !== NUM_CLASSES) throw new Error(`text embedding must have ${NUM_CLASSES} rows, got ${textEmbedding.length}`);
    this.textEmbedding = tf.keep(tf.tensor2d(textEmbedding));
    const p = (this.params = new ParamStore(config.seed, config.init ?? "pytorch"));
    const [w0, w1, w2, w3, w4] = config.widths;
    const h = config.headChannels;
    const levels: [number, number, number][] = [
      [1, w0, w1],
      [w1, w1, w2],
      [w2, w2, w3],
      [w3, w3, w4],
    ];
    levels.forEach(([a, b, c], i) => {
      defineConvBnRelu(p, `down${i}.a`, a, b);
      defineConvBnRelu(p, `down${i}.b`, b, c);
    });
    // Up path: level k receives the deeper output (channels cIn), upsampled, concatenated with skip k.
    const ups: [number, number, number][] = [
      [w4, w3, w3], // from bottleneck: convT w4->w4, concat skip2 (w3) -> w3
      [w3, w2, w2],
      [w2, w1, w1],
    ];
    ups.forEach(([cin, skip, cout], i) => {
      defineConvTranspose(p, `up${i}.t`, cin, cin);
      defineConvBnRelu(p, `up${i}.a`, [cin, skip], cout);
      defineConvBnRelu(p, `up${i}.b`, cout, cout);
    });
    // Universal Model head.
    defineGroupNorm(p, "gap.gn", w4);
    p.weight("gap.w", [w4, config.featureDim], w4);
    p.bias("gap.b", [config.featureDim], w4);
    // The text and controller layers were uniform +-1/sqrt(fan_in) under both schemes.
    p.uniform("text.w", [512, config.featureDim], 1 / Math.sqrt(512));
    p.bias("text.b", [config.featureDim], 512);
    const nParams = dynamicParamCount(h);
    p.uniform("controller.w", [2 * config.featureDim, nParams], 1 / Math.sqrt(2 * config.featureDim));
    p.bias("controller.b", [nParams], 2 * config.featureDim);
    defineGroupNorm(p, "precls.gn", w1);
    p.weight("precls.w", [w1, h], w1);
    p.bias("precls.b", [h], w1);
  }

  /** Every spatial size must be divisible by 8 (three 2x poolings). */
  static checkInputShape(shape: number[]): void {
    if (shape.length !== 5 || shape[4] !== 1) throw new Error(`model input must be [B, D, H, W, 1], got [${shape}]`);
    if (shape.slice(1, 4).some((s) => s % 8 !== 0)) throw new Error(`model input spatial size must be divisible by 8, got [${shape.slice(1, 4)}]`);
  }

  /**
   * Logits of `classes` (class ids 1..32, in that order; default all 32) as the last axis. Training and
   * evaluation ask only for the classes a case's template labels: the 32 dynamic heads run at every voxel
   * and were a third of a CPU training step, and the other classes' logits only ever got zero gradient.
   */
  forward(x: tf.Tensor5D, ctx: ForwardContext, classes?: readonly number[]): ModelOutput {
    UniversalUNet.checkInputShape(x.shape);
    if (classes && (classes.length === 0 || classes.some((k) => !Number.isInteger(k) || k < 1 || k > NUM_CLASSES))) {
      throw new Error(`forward: classes must be ids 1..${NUM_CLASSES}, got [${classes.join(", ")}]`);
    }
    // Rows of the 32 classes' head parameters picked by a 0/1 product (exact; tfjs-wasm has no gather gradient).
    const pick = classes
      ? tf.tensor2d(Float32Array.from(classes.flatMap((k) => Array.from({ length: NUM_CLASSES }, (_, j) => (j === k - 1 ? 1 : 0)))), [
          classes.length,
          NUM_CLASSES,
        ])
      : undefined;
    const p = this.params;
    const { bottleneck, decoder: h } = this.backbone(x, ctx);
    // Pooled feature: GroupNorm + ReLU + global average pool + 1x1 conv.
    const pooled = tf.mean(tf.relu(groupNorm(p, "gap.gn", bottleneck)), [1, 2, 3]) as tf.Tensor2D;
    const feature = tf.add(tf.matMul(pooled, p.get("gap.w") as tf.Tensor2D), p.get("gap.b")) as tf.Tensor2D;
    // Class embeddings -> feature space.
    const text = tf.relu(tf.add(tf.matMul(this.textEmbedding, p.get("text.w") as tf.Tensor2D), p.get("text.b"))) as tf.Tensor2D;
    // Decoder features -> headChannels.
    const dec = tf.relu(groupNorm(p, "precls.gn", h)) as tf.Tensor5D;
    const [b, d, hh, w, c] = dec.shape;
    const hc = this.config.headChannels;
    const decFlat = tf.add(tf.matMul(tf.reshape(dec, [b * d * hh * w, c]), p.get("precls.w") as tf.Tensor2D), p.get("precls.b"));
    const logitsPerCase: tf.Tensor[] = [];
    for (let i = 0; i < b; i++) {
      const fi = tf.slice(feature, [i, 0], [1, -1]);
      const cond = tf.concat([tf.tile(fi, [NUM_CLASSES, 1]), text], 1); // [32, 2F]
      const all = tf.add(tf.matMul(cond, p.get("controller.w") as tf.Tensor2D), p.get("controller.b")); // [32, P]
      const dyn = pick ? tf.matMul(pick, all) : all; // [C, P]
      const xi = tf.slice(decFlat, [i * d * hh * w, 0], [d * hh * w, hc]); // [V, h]
      logitsPerCase.push(applyDynamicHeads(xi, dyn, hc, [d, hh, w]));
    }
    const logits = (b === 1 ? tf.expandDims(logitsPerCase[0], 0) : tf.stack(logitsPerCase)) as tf.Tensor5D;
    return { logits, feature };
  }

  /**
   * The Models Genesis UNet3D backbone: the bottleneck [B, D/8, H/8, W/8, w4] (the reference's out512) and
   * the decoder's last features [B, D, H, W, w1] (its out_up_64).
   */
  backbone(x: tf.Tensor5D, ctx: ForwardContext): { bottleneck: tf.Tensor5D; decoder: tf.Tensor5D } {
    UniversalUNet.checkInputShape(x.shape);
    const p = this.params;
    const skips: tf.Tensor5D[] = [];
    let h = x;
    for (let i = 0; i < 4; i++) {
      h = convBnRelu(p, `down${i}.a`, h, ctx);
      h = convBnRelu(p, `down${i}.b`, h, ctx);
      if (i < 3) {
        skips.push(h);
        h = tf.maxPool3d(h, 2, 2, "valid");
      }
    }
    const bottleneck = h;
    for (let i = 0; i < 3; i++) {
      const up = convTranspose(p, `up${i}.t`, h);
      // conv(concat(up, skip)) computed as conv(up, W_up) + conv(skip, W_skip): the same function, without
      // the channel concat whose gradient (SplitV) is very slow on the wasm backend.
      h = convBnRelu(p, `up${i}.a`, [up, skips[2 - i]], ctx);
      h = convBnRelu(p, `up${i}.b`, h, ctx);
    }
    return { bottleneck, decoder: h };
  }

  /** Inference: BatchNorm as config.inferenceBatchNorm says; running statistics are never updated here. */
  predict(x: tf.Tensor5D, classes?: readonly number[]): ModelOutput {
    return this.forward(x, { training: false, bnUpdates: [], batchStatistics: (this.config.inferenceBatchNorm ?? "batch") === "batch" }, classes);
  }

  applyBatchNormUpdates(ctx: ForwardContext): void {
    applyBatchNormUpdates(this.params, ctx.bnUpdates);
  }

  dispose(): void {
    this.params.dispose();
    this.textEmbedding.dispose();
  }
}

/**
 * Run C per-class heads on shared features x [V, h] with parameters dyn [C, P], laid out as in the
 * reference (weights w1 [h out, h in], w2 [h, h], w3 [1, h], then biases b1, b2, b3). Returns [D, H, W, C].
 */
function applyDynamicHeads(x: tf.Tensor, dyn: tf.Tensor, h: number, spatial: [number, number, number]): tf.Tensor {
  const C = dyn.shape[0];
  // The same function fused into one kernel on the CPU backends (src/kernels/dynamic-heads.ts).
  if (canFuseHeads(h, x.shape[0])) return tf.reshape(fusedDynamicHeads(x as tf.Tensor2D, dyn as tf.Tensor2D), [...spatial, C]);
  let o = 0;
  const take = (n: number) => {
    const t = tf.slice(dyn, [0, o], [C, n]);
    o += n;
    return t;
  };
  const w1 = tf.reshape(take(h * h), [C, h, h]); // [C, out, in]
  const w2 = tf.reshape(take(h * h), [C, h, h]);
  const w3 = tf.reshape(take(h), [C, 1, h]);
  const b1 = take(h);
  const b2 = take(h);
  const b3 = take(1);
  const V = x.shape[0];
  // Layer 1 for all classes in one product: x [V, in] @ [in, C*out].
  const w1cat = tf.reshape(tf.transpose(w1, [2, 0, 1]), [h, C * h]);
  let y = tf.add(tf.reshape(tf.matMul(x, w1cat), [V, C, h]), b1); // [V, C, h]
  y = tf.transpose(tf.relu(y), [1, 0, 2]); // [C, V, h]
  y = tf.relu(tf.add(tf.matMul(y, w2, false, true), tf.expandDims(b2, 1))); // [C, V, h]
  const out = tf.add(tf.matMul(y, w3, false, true), tf.expandDims(b3, 1)); // [C, V, 1]
  return tf.reshape(tf.transpose(tf.reshape(out, [C, V])), [...spatial, C]);
}
