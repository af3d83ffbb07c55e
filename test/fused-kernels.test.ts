import { test } from "node:test";
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { initBackend } from "../src/backend.js";
import { hasFusedAdamW, ADAMW_UPDATE } from "../src/kernels/adamw-update.js";
import { fusedBatchNormRelu, hasFusedBatchNormRelu } from "../src/kernels/batchnorm-relu.js";
import { fusedDiceBce, hasFusedDiceBce } from "../src/kernels/dice-bce.js";
import { FUSED_OPS, fusedOpEnabled } from "../src/kernels/fused-switch.js";
import { middleRun } from "../src/kernels/wasm/middle-sum.js";
import { diceBceOps, partialLabelLoss } from "../src/model/loss.js";
import { AdamW, TORCH_ADAMW } from "../src/train/adamw.js";
import { defaultConfig } from "../src/train/config.js";
import { train } from "../src/train/trainer.js";
import { Rng } from "../src/util/rng.js";
import { smokePrepared } from "./fixtures.js";

// This file tests the fused kernels, some of them off by default (src/kernels/fused-switch.ts): switch all on.
process.env.MASSIVE_FUSED_OPS = "all";

/**
 * The kit's wasm kernels that replace op chains (Identity without a copy, Sum/Mean over middle axes, the
 * fused AdamW update, BatchNorm+ReLU and the loss terms) against float64 definitions and against the op
 * forms: AdamW's and BatchNorm's bit for bit.
 */

const maxAbs = (a: ArrayLike<number>, b: ArrayLike<number>) => Array.from(a).reduce((m, v, i) => Math.max(m, Math.abs(v - b[i])), 0);
const scale = (a: ArrayLike<number>) => Math.max(1e-12, ...Array.from(a, Math.abs));

test("wasm Identity shares the buffer: a clone keeps its values after the original is disposed, and nothing leaks", async () => {
  await initBackend({ log: () => {}, force: "wasm" });
  const before = tf.memory();
  const x = tf.tensor([1.5, -2, 3.25, 4]);
  const y = tf.clone(x);
  x.dispose();
  assert.deepEqual(Array.from(await y.data()), [1.5, -2, 3.25, 4]);
  y.dispose();
  // A gradient that saves its input (the engine clones saved tensors through Identity).
  const initial = tf.tensor([0.5, -1, 2]);
  const v = tf.variable(initial);
  initial.dispose();
  const { value, grads } = tf.variableGrads(() => tf.sum(tf.square(v)) as tf.Scalar, [v]);
  assert.deepEqual(Array.from(await grads[v.name].data()), [1, -2, 4]);
  tf.dispose([value, grads[v.name], v]);
  const after = tf.memory();
  assert.equal(after.numTensors, before.numTensors);
  assert.equal(after.numBytes, before.numBytes);
});

test("middleRun finds [outer, rows, inner] only for one run of reduced axes before the last", () => {
  assert.deepEqual(middleRun([1, 16, 32, 32, 8], [0, 1, 2, 3]), { outer: 1, rows: 16384, inner: 8 });
  assert.deepEqual(middleRun([512, 32, 32], [0]), { outer: 1, rows: 512, inner: 1024 });
  assert.deepEqual(middleRun([2, 3, 4, 5], [1, 2]), { outer: 2, rows: 12, inner: 5 });
  assert.deepEqual(middleRun([1, 16384, 8, 1], [0, 1]), { outer: 1, rows: 16384, inner: 8 });
  assert.equal(middleRun([4, 5], [1]), undefined, "the last axis: the stock kernel has no transpose to save");
  assert.equal(middleRun([2, 3, 4], [0, 2]), undefined, "two runs");
  assert.equal(middleRun([1, 1, 3], [0, 1]), undefined, "only size-1 axes reduced");
});

test("wasm Sum and Mean over middle axes equal float64 sums, keepDims and shapes as tf's", async () => {
  await initBackend({ log: () => {}, force: "wasm" });
  const rng = new Rng(5);
  const cases: [number[], number[]][] = [
    [
      [1, 16, 8, 8, 8],
      [0, 1, 2, 3],
    ],
    [[64, 6, 5], [0]],
    [
      [3, 7, 5, 6],
      [1, 2],
    ],
    [
      [2, 9, 1, 3],
      [1, 2],
    ],
    [[5, 13], [0]],
    [[4, 6], [1]], // the stock path
  ];
  for (const [shape, axes] of cases) {
    const n = shape.reduce((a, b) => a * b, 1);
    const xs = Float32Array.from({ length: n }, () => rng.uniform(-1, 1));
    const strides = shape.map((_, i) => shape.slice(i + 1).reduce((a, b) => a * b, 1));
    const outShape = shape.filter((_, i) => !axes.includes(i));
    const ref = new Float64Array(outShape.reduce((a, b) => a * b, 1));
    const rows = axes.reduce((p, a) => p * shape[a], 1);
    for (let i = 0; i < n; i++) {
      let o = 0;
      shape.forEach((d, a) => {
        if (!axes.includes(a)) o = o * d + (Math.floor(i / strides[a]) % d);
      });
      ref[o] += xs[i];
    }
    for (const keepDims of [false, true]) {
      const x = tf.tensor(xs, shape);
      const s = tf.sum(x, axes, keepDims);
      const m = tf.mean(x, axes, keepDims);
      assert.deepEqual(s.shape, keepDims ? shape.map((d, i) => (axes.includes(i) ? 1 : d)) : outShape);
      assert.deepEqual(m.shape, s.shape);
      const sv = await s.data();
      const mv = await m.data();
      assert.ok(maxAbs(sv, ref) <= 1e-5 * rows, `sum of [${shape}] over [${axes}]: ${maxAbs(sv, ref)}`);
      assert.ok(
        maxAbs(
          mv,
          Array.from(ref, (r) => r / rows),
        ) <= 1e-6,
        `mean of [${shape}] over [${axes}]`,
      );
      tf.dispose([x, s, m]);
    }
  }
});

// torch's betas and eps with a weight decay large enough to show in 6 steps (torch's default 1e-5 would not).
const CONFIG = { ...TORCH_ADAMW, weightDecay: 0.1 };

/** torch.optim.AdamW's update in float64, once per gradient. */
function adamwReference(p0: number[], grads: number[][], lrs: number[]): number[] {
  const { beta1, beta2, eps, weightDecay } = CONFIG;
  const p = [...p0];
  const m = p.map(() => 0);
  const v = p.map(() => 0);
  grads.forEach((g, k) => {
    const step = k + 1;
    const lr = lrs[k];
    for (let i = 0; i < p.length; i++) {
      p[i] *= 1 - lr * weightDecay;
      m[i] = beta1 * m[i] + (1 - beta1) * g[i];
      v[i] = beta2 * v[i] + (1 - beta2) * g[i] * g[i];
      const denom = Math.sqrt(v[i] / (1 - beta2 ** step)) + eps;
      p[i] -= (lr / (1 - beta1 ** step)) * (m[i] / denom);
    }
  });
  return p;
}

async function runAdamW(p0: number[], grads: number[][], lrs: number[]): Promise<number[]> {
  const initial = tf.tensor(p0, [2, p0.length / 2]);
  const p = tf.variable(initial, true, "fused-adamw-test");
  initial.dispose();
  const opt = new AdamW(new Map([[p.name, p]]), CONFIG);
  for (let k = 0; k < grads.length; k++) {
    const g = tf.tensor(grads[k], p.shape);
    opt.apply(new Map([[p.name, g]]), lrs[k]);
    g.dispose();
  }
  const out = Array.from(await p.data());
  opt.dispose();
  p.dispose();
  return out;
}

test("AdamW, fused on wasm and op by op on cpu, follows torch's update in float64 over 6 steps", async () => {
  const rng = new Rng(9);
  const n = 38; // not a multiple of 4
  const p0 = Array.from({ length: n }, () => rng.uniform(-1, 1));
  const grads = Array.from({ length: 6 }, (_, k) => p0.map((_, i) => (i === 3 ? 0 : rng.uniform(-1, 1) * 10 ** (k - 3))));
  const lrs = [1e-3, 2e-3, 2e-3, 1.5e-3, 1e-3, 5e-4];
  const ref = adamwReference(p0, grads, lrs);
  await initBackend({ log: () => {}, force: "wasm" });
  for (const backend of ["wasm", "cpu"] as const) {
    await tf.setBackend(backend);
    assert.equal(hasFusedAdamW(), backend === "wasm", `${ADAMW_UPDATE} registered on ${backend}`);
    const before = tf.memory().numTensors;
    const got = await runAdamW(p0, grads, lrs);
    assert.equal(tf.memory().numTensors, before, `AdamW leaks tensors on ${backend}`);
    // The update moves each parameter by about 6 * lr; float32 rounding of p is ~1e-7.
    assert.ok(maxAbs(got, ref) <= 2e-6, `${backend}: max |p - torch float64| = ${maxAbs(got, ref)}`);
  }
  await tf.setBackend("wasm");
});

test("AdamW: the fused update is bit for bit the op chain's, on wasm and against cpu, over 8 steps", async () => {
  const rng = new Rng(17);
  const n = 1002; // 250 quads in the module and 2 in JavaScript
  // Parameters and gradients over many magnitudes (tiny, huge, zero, negative), as a network's span them.
  const magnitude = () => 10 ** rng.uniform(-9, 2) * (rng.next() < 0.5 ? -1 : 1);
  const p0 = Array.from({ length: n }, () => magnitude());
  const grads = Array.from({ length: 8 }, () => p0.map((_, i) => (i % 101 === 0 ? 0 : magnitude())));
  const lrs = [2e-4, 1e-3, 2e-3, 2e-3, 1.7e-3, 9e-4, 3e-4, 1e-5];
  const saved = process.env.MASSIVE_FUSED_OPS;
  const bits = (a: number[]) => new Uint32Array(Float32Array.from(a).buffer);
  try {
    await initBackend({ log: () => {}, force: "wasm" });
    process.env.MASSIVE_FUSED_OPS = "adamw";
    assert.ok(hasFusedAdamW());
    const fused = bits(await runAdamW(p0, grads, lrs));
    process.env.MASSIVE_FUSED_OPS = "0";
    assert.ok(!hasFusedAdamW());
    const ops = bits(await runAdamW(p0, grads, lrs));
    await tf.setBackend("cpu");
    const cpu = bits(await runAdamW(p0, grads, lrs));
    const differing = (a: Uint32Array, b: Uint32Array) => a.reduce((k, v, i) => k + (v === b[i] ? 0 : 1), 0);
    assert.equal(differing(fused, ops), 0, "elements where the fused update and the wasm op chain differ");
    assert.equal(differing(ops, cpu), 0, "elements where the wasm and cpu op chains differ");
  } finally {
    process.env.MASSIVE_FUSED_OPS = saved;
    await tf.setBackend("wasm");
  }
});

/** The loss terms in float64: per organ, the mean over rows of 1 - 2 sum(p y) / (sum(p) + sum(y) + 1), and the mean BCE. */
function termsReference(x: Float32Array, y: Float32Array, V: number, T: number, X: number): number[] {
  const dice: number[] = [];
  const bce: number[] = [];
  for (let t = 0; t < T; t++) {
    const num = new Float64Array(X);
    const den = new Float64Array(X).fill(1);
    let b = 0;
    for (let v = 0; v < V; v++) {
      const xi = x[v * T + t];
      const yi = y[v * T + t];
      const p = 1 / (1 + Math.exp(-xi));
      num[v % X] += 2 * p * yi;
      den[v % X] += p + yi;
      b += Math.max(xi, 0) - xi * yi + Math.log1p(Math.exp(-Math.abs(xi)));
    }
    dice.push(Array.from(num).reduce((s, nv, r) => s + 1 - nv / den[r], 0) / X);
    bce.push(b / V);
  }
  return [...dice, ...bce];
}

test("the fused loss terms and their gradient equal float64 and the op form (T = 7, logits up to +-120)", async () => {
  await initBackend({ log: () => {}, force: "wasm" });
  assert.ok(hasFusedDiceBce(), "the fused loss kernels should be registered on wasm");
  const rng = new Rng(3);
  const [Z, Y, X, T] = [3, 5, 6, 7];
  const V = Z * Y * X;
  const xs = Float32Array.from({ length: V * T }, (_, i) => (i % 97 === 0 ? (i % 2 ? 120 : -120) : rng.uniform(-6, 6)));
  const ys = Float32Array.from({ length: V * T }, () => (rng.uniform(0, 1) < 0.3 ? 1 : 0));
  const ref = termsReference(xs, ys, V, T, X);
  const x = tf.tensor2d(xs, [V, T]);
  const y = tf.tensor2d(ys, [V, T]);
  const dy = tf.tensor2d(
    Float32Array.from({ length: 2 * T }, () => rng.uniform(-1, 1)),
    [2, T],
  );
  const before = tf.memory().numTensors;
  const fused = tf.grad((a: tf.Tensor) => tf.sum(tf.mul(fusedDiceBce(a as tf.Tensor2D, y, X), dy)))(x);
  const fusedTerms = fusedDiceBce(x, y, X);
  const ops = tf.grad((a: tf.Tensor) => tf.sum(tf.mul(tf.stack(diceBceOps(a as tf.Tensor2D, y, X, "rows")), dy)))(x);
  const termsF = await fusedTerms.data();
  assert.ok(maxAbs(termsF, ref) <= 1e-6 * scale(ref), `terms vs float64: ${maxAbs(termsF, ref)}`);
  const gf = await fused.data();
  const go = await ops.data();
  assert.ok(maxAbs(gf, go) <= 1e-5 * scale(go), `gradient, fused vs op form: ${maxAbs(gf, go)} of ${scale(go)}`);
  assert.ok(Array.from(gf).every(Number.isFinite));
  tf.dispose([fused, fusedTerms, ops]);
  assert.equal(tf.memory().numTensors, before, "the fused loss leaks tensors");
  // The whole case loss takes the fused path and agrees with the op form through partialLabelLoss.
  const logits = tf.tensor4d(
    Float32Array.from({ length: V * 9 }, () => rng.uniform(-3, 3)),
    [Z, Y, X, 9],
  );
  const target = tf.tensor4d(ys.slice(0, V * 3), [Z, Y, X, 3]);
  const fusedLoss = partialLabelLoss(logits, target, [2, 5, 8], [1, 2, 1.5]);
  const [d, b] = diceBceOps(tf.gather(tf.reshape(logits, [V, 9]), [2, 5, 8], 1) as tf.Tensor2D, tf.reshape(target, [V, 3]) as tf.Tensor2D, X, "rows");
  const w = tf.tensor1d([1, 2, 1.5]);
  const opLoss = tf.div(tf.add(tf.sum(tf.mul(w, d)), tf.sum(tf.mul(w, b))), 3);
  assert.ok(Math.abs((await fusedLoss.loss.data())[0] - (await opLoss.data())[0]) <= 1e-6);
  tf.dispose([x, y, dy, logits, target, fusedLoss.loss, fusedLoss.bce, fusedLoss.perOrgan, d, b, w, opLoss]);
});

test("the fused BatchNorm+ReLU is bit for bit the op form: output, batch statistics and gradients (x offset by 3)", async () => {
  await initBackend({ log: () => {}, force: "wasm" });
  assert.ok(hasFusedBatchNormRelu(8), "the fused BatchNorm+ReLU kernels should be registered on wasm");
  assert.equal(hasFusedBatchNormRelu(6), false, "channels not a multiple of 4 take the op form");
  const rng = new Rng(17);
  const shape = [1, 6, 8, 10, 8];
  const n = shape.reduce((a, b) => a * b, 1);
  const x = tf.tensor(
    Float32Array.from({ length: n }, (_, i) => 3 + (i % 8) * 0.5 + rng.uniform(-1, 1)),
    shape,
  );
  const gamma = tf.tensor1d(Float32Array.from({ length: 8 }, () => rng.uniform(0.5, 1.5)));
  const beta = tf.tensor1d(Float32Array.from({ length: 8 }, () => rng.uniform(-0.5, 0.5)));
  const dy = tf.tensor(
    Float32Array.from({ length: n }, () => rng.uniform(-1, 1)),
    shape,
  );
  const eps = 1e-5;
  const before = tf.memory().numTensors;
  const opForm = (a: tf.Tensor, g: tf.Tensor, b: tf.Tensor) => {
    const { mean, variance } = tf.moments(a, [0, 1, 2, 3]);
    return tf.relu(tf.add(tf.mul(tf.sub(a, mean), tf.mul(tf.rsqrt(tf.add(variance, eps)), g)), b));
  };
  const fusedForm = (a: tf.Tensor, g: tf.Tensor, b: tf.Tensor) => {
    const r = fusedBatchNormRelu(a, g as tf.Tensor1D, b as tf.Tensor1D, eps);
    tf.dispose([r.mean, r.variance]);
    return r.out;
  };
  const results = [opForm, fusedForm].map((f) => tf.grads((a: tf.Tensor, g: tf.Tensor, b: tf.Tensor) => tf.sum(tf.mul(f(a, g, b), dy)))([x, gamma, beta]));
  const outs = tf.tidy(() => [opForm(x, gamma, beta), fusedForm(x, gamma, beta)]);
  // Equal values (a zero's sign aside: the op form's ReLU gradient makes dy * 0, the kernel a plain 0).
  const close = async (a: tf.Tensor, b: tf.Tensor, what: string) => {
    const [av, bv] = [await a.data(), await b.data()];
    const differing = Array.from(av).filter((v, i) => v !== bv[i]).length;
    assert.equal(differing, 0, `${what}: ${differing} of ${av.length} values differ from the op form's (largest by ${maxAbs(av, bv)} of ${scale(bv)})`);
  };
  await close(outs[1], outs[0], "output");
  for (const [i, what] of ["dx", "dgamma", "dbeta"].entries()) await close(results[1][i], results[0][i], what);
  const stats = fusedBatchNormRelu(x, gamma, beta, eps);
  const { mean, variance } = tf.moments(x, [0, 1, 2, 3]);
  await close(stats.mean, mean, "mean");
  await close(stats.variance, variance, "variance");
  tf.dispose([...results.flat(), ...outs, stats.out, stats.mean, stats.variance, mean, variance]);
  assert.equal(tf.memory().numTensors, before, "the fused BatchNorm+ReLU leaks tensors");
  tf.dispose([x, gamma, beta, dy]);
});

test("training with the fused kernels follows the op forms (MASSIVE_FUSED_OPS=0) step by step at a small learning rate", async () => {
  await initBackend({ log: () => {}, force: "wasm" });
  // At lr 1e-4 training does not amplify rounding much, so a defect that builds up over steps (optimiser
  // state, reused buffers) would part the two runs; at the profiles' lr 2e-3 they part by chaos alone.
  const run = async () => {
    const losses: number[] = [];
    const r = await train({
      config: defaultConfig("smoke", "sm", { memorySize: 4, samplingRate: 2, seed: 7, lr: 1e-4 }),
      data: smokePrepared(),
      sites: ["D1", "D2", "D3"],
      progress: false,
      log: () => {},
      events: { onStep: (e) => void losses.push(e.loss) },
    });
    r.dispose();
    return losses;
  };
  const fused = await run();
  let ops: number[];
  process.env.MASSIVE_FUSED_OPS = "0"; // every op form
  try {
    assert.equal(hasFusedAdamW() || hasFusedDiceBce() || hasFusedBatchNormRelu(8), false);
    ops = await run();
  } finally {
    process.env.MASSIVE_FUSED_OPS = "all";
  }
  assert.ok(fused.length >= 10 && fused.length === ops.length, `steps: ${fused.length} fused, ${ops.length} op by op`);
  const worst = Math.max(...fused.map((l, i) => Math.abs(l - ops[i]) / Math.abs(ops[i])));
  assert.ok(worst <= 1e-3, `largest relative loss difference over ${fused.length} steps: ${worst}`);
});

test("MASSIVE_FUSED_OPS: adamw and batchnorm by default, 0, all, a list, and a clear error for an unknown name", () => {
  const saved = process.env.MASSIVE_FUSED_OPS;
  try {
    delete process.env.MASSIVE_FUSED_OPS;
    assert.deepEqual(FUSED_OPS.map(fusedOpEnabled), [true, false, true]);
    process.env.MASSIVE_FUSED_OPS = "0";
    assert.deepEqual(FUSED_OPS.map(fusedOpEnabled), [false, false, false]);
    process.env.MASSIVE_FUSED_OPS = "all";
    assert.deepEqual(FUSED_OPS.map(fusedOpEnabled), [true, true, true]);
    process.env.MASSIVE_FUSED_OPS = "loss, adamw";
    assert.deepEqual(FUSED_OPS.map(fusedOpEnabled), [true, true, false]);
    process.env.MASSIVE_FUSED_OPS = "bn";
    assert.throws(() => fusedOpEnabled("loss"), /MASSIVE_FUSED_OPS must be 0, all, or a comma list of adamw, loss, batchnorm; got "bn"/);
    // A bad value is refused on every call, not only the first (the parsed value is cached).
    assert.throws(() => fusedOpEnabled("adamw"), /got "bn"/);
    process.env.MASSIVE_FUSED_OPS = "batchnorm";
    assert.deepEqual(FUSED_OPS.map(fusedOpEnabled), [false, false, true]);
  } finally {
    // Assigning undefined to process.env would store the string "undefined".
    if (saved === undefined) delete process.env.MASSIVE_FUSED_OPS;
    else process.env.MASSIVE_FUSED_OPS = saved;
  }
});
