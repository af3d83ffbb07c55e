/** The benchmark networks, their training steps, and their convolution FLOP counts. */
import * as tf from "@tensorflow/tfjs";
import type { ModelConfig } from "../src/model/universal-unet.js";
import { PAPER_WIDTHS } from "../src/profiles.js";
import { AdamW } from "../src/train/adamw.js";
import { createModel } from "../src/model/create.js";
import { defaultConfig } from "../src/train/config.js";
import { trainStep } from "../src/train/step.js";
import type { Vec3 } from "../src/data/volume.js";

export const BENCH_NETS = ["narrow", "mini", "paper"] as const;
export type BenchNet = (typeof BENCH_NETS)[number];

/** Each net's benchmark input [x, y, z]: the mini profile's patch for mini, 32^3 otherwise. */
export const BENCH_ROI: Record<BenchNet, Vec3> = { narrow: [32, 32, 32], mini: [32, 32, 16], paper: [32, 32, 32] };

export const BENCH_WIDTHS: Record<Exclude<BenchNet, "narrow">, ModelConfig["widths"]> = {
  mini: [4, 8, 16, 32, 64],
  paper: PAPER_WIDTHS,
};

/** Forward convolution FLOPs (2 per multiply-add) of a net on a [x, y, z] input. */
export function forwardConvFlops(net: BenchNet, roi: Vec3): number {
  const V = roi[0] * roi[1] * roi[2];
  const conv = (v: number, cin: number, cout: number, k = 27) => 2 * v * k * cin * cout;
  if (net === "narrow") {
    return (
      conv(V, 1, 8) +
      conv(V, 8, 8) +
      conv(V / 8, 8, 16) +
      conv(V / 8, 16, 16) +
      conv(V / 64, 16, 32) +
      conv(V / 64, 32, 32) +
      conv(V / 64, 32, 16, 8) +
      conv(V / 8, 32, 16) +
      conv(V / 8, 16, 16) +
      conv(V / 8, 16, 8, 8) +
      conv(V, 16, 8) +
      conv(V, 8, 8) +
      conv(V, 8, 8, 1)
    );
  }
  const [w0, w1, w2, w3, w4] = BENCH_WIDTHS[net];
  const v = [V, V / 8, V / 64, V / 512];
  let f =
    conv(v[0], 1, w0) +
    conv(v[0], w0, w1) +
    conv(v[1], w1, w1) +
    conv(v[1], w1, w2) +
    conv(v[2], w2, w2) +
    conv(v[2], w2, w3) +
    conv(v[3], w3, w3) +
    conv(v[3], w3, w4);
  const ups: [number, number, number, number][] = [
    [v[3], w4, w3, w3],
    [v[2], w3, w2, w2],
    [v[1], w2, w1, w1],
  ];
  for (const [vin, c, s, o] of ups) f += conv(vin, c, c, 8) + conv(vin * 8, c + s, o) + conv(vin * 8, o, o);
  return f;
}

export let nanSteps = 0;

export interface Stepper {
  /** One training step, finished (its results read back to the host). */
  step(): Promise<void>;
  dispose(): void;
}

function narrowNet(roi: Vec3): Stepper {
  const v: tf.Variable[] = [];
  const conv = (k: number, cin: number, cout: number) => {
    const w = tf.variable(tf.randomNormal([k, k, k, cin, cout], 0, Math.sqrt(2 / (k * k * k * cin))));
    const b = tf.variable(tf.zeros([cout]));
    v.push(w, b);
    return { w, b };
  };
  const convT = (cin: number, cout: number) => {
    const w = tf.variable(tf.randomNormal([2, 2, 2, cout, cin], 0, Math.sqrt(2 / (8 * cin))));
    const b = tf.variable(tf.zeros([cout]));
    v.push(w, b);
    return { w, b };
  };
  const L = {
    d0a: conv(3, 1, 8),
    d0b: conv(3, 8, 8),
    d1a: conv(3, 8, 16),
    d1b: conv(3, 16, 16),
    d2a: conv(3, 16, 32),
    d2b: conv(3, 32, 32),
    t1: convT(32, 16),
    u1a: conv(3, 32, 16),
    u1b: conv(3, 16, 16),
    t0: convT(16, 8),
    u0a: conv(3, 16, 8),
    u0b: conv(3, 8, 8),
    out: conv(1, 8, 8),
  };
  const [X, Y, Z] = roi;
  const x = tf.randomUniform([1, Z, Y, X, 1]) as tf.Tensor5D;
  const target = tf.randomUniform([1, Z, Y, X, 8]);
  const cr = (h: tf.Tensor5D, l: { w: tf.Variable; b: tf.Variable }) => tf.relu(tf.add(tf.conv3d(h, l.w as tf.Tensor5D, 1, "same"), l.b)) as tf.Tensor5D;
  const up = (h: tf.Tensor5D, l: { w: tf.Variable; b: tf.Variable }) => {
    const [n, d, hh, w] = h.shape;
    return tf.add(tf.conv3dTranspose(h, l.w as tf.Tensor5D, [n, 2 * d, 2 * hh, 2 * w, l.w.shape[3] as number], 2, "valid"), l.b) as tf.Tensor5D;
  };
  const opt = tf.train.adam(1e-4);
  return {
    async step() {
      const cost = tf.tidy(() => {
        return opt.minimize(
          () => {
            const s0 = cr(cr(x, L.d0a), L.d0b);
            const s1 = cr(cr(tf.maxPool3d(s0, 2, 2, "valid"), L.d1a), L.d1b);
            const b = cr(cr(tf.maxPool3d(s1, 2, 2, "valid"), L.d2a), L.d2b);
            const u1 = cr(cr(tf.concat([up(b, L.t1), s1], 4) as tf.Tensor5D, L.u1a), L.u1b);
            const u0 = cr(cr(tf.concat([up(u1, L.t0), s0], 4) as tf.Tensor5D, L.u0a), L.u0b);
            const out = tf.add(tf.conv3d(u0, L.out.w as tf.Tensor5D, 1, "same"), L.out.b);
            return tf.mean(tf.squaredDifference(out, target)) as tf.Scalar;
          },
          true,
          v,
        )!;
      });
      // Wait for the step (a GPU backend only queues it): read the loss back.
      await cost.data();
      cost.dispose();
    },
    dispose() {
      tf.dispose([...v, x, target]);
      opt.dispose();
    },
  };
}

function universalNet(net: "mini" | "paper", roi: Vec3): Stepper {
  const config = defaultConfig("smoke", "lm", { roi, model: { widths: BENCH_WIDTHS[net], featureDim: 256, headChannels: 8, seed: 1 } });
  const model = createModel(config.model);
  const opt = new AdamW(model.params.trainable);
  const n = roi[0] * roi[1] * roi[2];
  const image = Float32Array.from({ length: n }, (_, i) => ((i * 2654435761) % 1000) / 1000);
  const label = Uint8Array.from({ length: n }, (_, i) => ((i * 40503) % 97 < 10 ? 1 + (i % 32) : 0));
  const organs = Array.from({ length: 32 }, (_, i) => i + 1);
  const batch = [{ patch: { shape: roi, image, label }, organs, weights: organs.map(() => 1) }];
  return {
    async step() {
      try {
        await trainStep(model, opt, batch, 1e-4);
      } catch (e) {
        // The stock wasm kernels' wrong input gradient can produce NaN; the step's time still counts.
        if (!/diverged/.test((e as Error).message)) throw e;
        nanSteps++;
      }
    },
    dispose() {
      opt.dispose();
      model.dispose();
    },
  };
}

export function makeStepper(net: BenchNet, roi: Vec3): Stepper {
  return net === "narrow" ? narrowNet(roi) : universalNet(net, roi);
}
