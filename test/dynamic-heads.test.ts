/**
 * The fused dynamic heads (src/kernels/dynamic-heads.ts, heads.wasm) against float64 loops written here
 * from the reference's head (three 1x1x1 convolutions, ReLU between), and the model with and without
 * the fusion (MASSIVE_FUSED_HEADS=0): the same logits and the same gradients.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { initBackend } from "../src/backend.js";
import { HEAD_PARAMS, canFuseHeads, fusedDynamicHeads } from "../src/kernels/dynamic-heads.js";
import { setConvWorker } from "../src/kernels/conv-worker-pool.js";
import { startedConvWorker } from "./helpers.js";
import { loadTextEmbedding } from "../src/model/create.js";
import { UniversalUNet, type ModelConfig } from "../src/model/universal-unet.js";

const H = 8;

/** A deterministic pseudo-random sequence in [-scale, scale]. */
function values(n: number, seed: number, scale = 1): Float32Array {
  let s = seed >>> 0;
  return Float32Array.from({ length: n }, () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return ((s / 2 ** 32) * 2 - 1) * scale;
  });
}

/** Logits [V, C] and, given dy [V, C], the gradients of sum(dy * logits) in x and dyn, in float64. */
function reference(x: Float32Array, dyn: Float32Array, dy: Float32Array, V: number, C: number) {
  const out = new Float64Array(V * C);
  const dx = new Float64Array(V * H);
  const ddyn = new Float64Array(C * HEAD_PARAMS);
  for (let c = 0; c < C; c++) {
    const p = c * HEAD_PARAMS;
    const w1 = (o: number, i: number) => dyn[p + o * H + i];
    const w2 = (o: number, i: number) => dyn[p + 64 + o * H + i];
    const w3 = (i: number) => dyn[p + 128 + i];
    const b1 = (o: number) => dyn[p + 136 + o];
    const b2 = (o: number) => dyn[p + 144 + o];
    const b3 = dyn[p + 152];
    for (let v = 0; v < V; v++) {
      const xv = Array.from({ length: H }, (_, i) => x[v * H + i]);
      const a = Array.from({ length: H }, (_, o) => Math.max(0, b1(o) + xv.reduce((s, xi, i) => s + w1(o, i) * xi, 0)));
      const b = Array.from({ length: H }, (_, o) => Math.max(0, b2(o) + a.reduce((s, ai, i) => s + w2(o, i) * ai, 0)));
      out[v * C + c] = b3 + b.reduce((s, bi, i) => s + w3(i) * bi, 0);
      const g = dy[v * C + c];
      ddyn[p + 152] += g;
      const db = b.map((bi, k) => (bi > 0 ? g * w3(k) : 0));
      b.forEach((bi, k) => (ddyn[p + 128 + k] += g * bi));
      const da = a.map((ai, j) => (ai > 0 ? db.reduce((s, dk, k) => s + w2(k, j) * dk, 0) : 0));
      for (let k = 0; k < H; k++) {
        ddyn[p + 144 + k] += db[k];
        for (let j = 0; j < H; j++) ddyn[p + 64 + k * H + j] += db[k] * a[j];
      }
      for (let j = 0; j < H; j++) {
        ddyn[p + 136 + j] += da[j];
        for (let i = 0; i < H; i++) {
          ddyn[p + j * H + i] += da[j] * xv[i];
          dx[v * H + i] += w1(j, i) * da[j];
        }
      }
    }
  }
  return { out, dx, ddyn };
}

function maxRelativeError(got: Float32Array, want: Float64Array): number {
  const scale = want.reduce((m, v) => Math.max(m, Math.abs(v)), 1e-3);
  let worst = 0;
  for (let i = 0; i < want.length; i++) worst = Math.max(worst, Math.abs(got[i] - want[i]) / scale);
  return worst;
}

for (const backend of ["wasm", "cpu"] as const) {
  test(`fused heads on ${backend}: logits and both gradients match float64 loops (with units switched off by the ReLUs)`, async () => {
    await initBackend({ force: "wasm", log: () => {} });
    assert.ok(await tf.setBackend(backend));
    const V = 64,
      C = 5;
    assert.ok(canFuseHeads(H, V), "heads.wasm is built and the backend is a CPU backend");
    assert.ok(!canFuseHeads(4, V) && !canFuseHeads(H, 62), "only 8 channels and V a multiple of 4");
    const x = values(V * H, 1);
    const dyn = values(C * HEAD_PARAMS, 2, 0.6);
    const dy = values(V * C, 3);
    const want = reference(x, dyn, dy, V, C);
    const xt = tf.tensor2d(x, [V, H]);
    const dt = tf.tensor2d(dyn, [C, HEAD_PARAMS]);
    const before = tf.memory().numTensors;
    const out = fusedDynamicHeads(xt, dt);
    assert.deepEqual(out.shape, [V, C]);
    assert.ok(maxRelativeError(out.dataSync() as Float32Array, want.out) < 1e-5, "logits");
    const grads = tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.mul(fusedDynamicHeads(a as tf.Tensor2D, b as tf.Tensor2D), tf.tensor2d(dy, [V, C]))));
    const [gx, gd] = grads([xt, dt]);
    assert.ok(maxRelativeError(gx.dataSync() as Float32Array, want.dx) < 1e-5, "gradient in x");
    assert.ok(maxRelativeError(gd.dataSync() as Float32Array, want.ddyn) < 1e-5, "gradient in the head parameters");
    // Some units must be off and some on, or the ReLU masks are not tested.
    const off = Array.from(want.ddyn).filter((v, i) => i % HEAD_PARAMS >= 64 && i % HEAD_PARAMS < 128 && v === 0).length;
    assert.ok(off > 0 && off < C * 64, `some second-layer weights get no gradient (${off}), not all`);
    tf.dispose([out, gx, gd]);
    assert.equal(tf.memory().numTensors, before, "no tensor leaks");
    tf.dispose([xt, dt]);
    await tf.setBackend("wasm");
  });
}

test("fused heads: half the classes on the convolution worker give the same bits as the main thread alone", async () => {
  await initBackend({ force: "wasm", log: () => {} });
  const worker = await startedConvWorker();
  const [V, C] = [256, 7];
  const xt = tf.tensor2d(values(V * H, 4), [V, H]);
  const dt = tf.tensor2d(values(C * HEAD_PARAMS, 5, 0.6), [C, HEAD_PARAMS]);
  const dy = tf.tensor2d(values(V * C, 6), [V, C]);
  const run = () =>
    tf.tidy(() => {
      const [gx, gd] = tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.mul(fusedDynamicHeads(a as tf.Tensor2D, b as tf.Tensor2D), dy)))([xt, dt]);
      return [fusedDynamicHeads(xt, dt).dataSync(), gx.dataSync(), gd.dataSync()].map((a) => Array.from(a));
    });
  const jobs = worker.jobsDone;
  const shared = run();
  assert.ok(worker.jobsDone >= jobs + 3, `the worker took a share of both forward passes and of the backward pass (${worker.jobsDone - jobs} jobs)`);
  // A worker that takes the jobs and then fails: the main thread computes its shares (the same split).
  let failed = 0;
  setConvWorker({
    available: () => true,
    arena: (n: number) => new Float32Array(n),
    start: () => {},
    wait: () => (failed++, false),
    jobsDone: 0,
  });
  try {
    const fallback = run();
    assert.ok(failed >= 3, "the failing worker was asked");
    setConvWorker(undefined);
    const alone = run();
    ["logits", "gradient in x", "gradient in the head parameters"].forEach((what, i) => {
      assert.deepEqual(shared[i], alone[i], what);
      assert.deepEqual(fallback[i], alone[i], `${what}, after the worker failed`);
    });
  } finally {
    setConvWorker(worker);
    tf.dispose([xt, dt, dy]);
  }
});

test("fused heads: errors name the shapes they need", async () => {
  await initBackend({ force: "wasm", log: () => {} });
  assert.throws(() => fusedDynamicHeads(tf.zeros([6, 8]) as tf.Tensor2D, tf.zeros([2, HEAD_PARAMS]) as tf.Tensor2D), /V a multiple of 4.*\[6,8\]/);
  assert.throws(() => fusedDynamicHeads(tf.zeros([8, 8]) as tf.Tensor2D, tf.zeros([2, 150]) as tf.Tensor2D), /dyn \[C, 153\]/);
});

test("the model gives the same logits and gradients with the fused heads as with the tf-op heads", async () => {
  await initBackend({ force: "wasm", log: () => {} });
  const config: ModelConfig = { widths: [4, 8, 16, 32, 64], featureDim: 256, headChannels: 8, seed: 3 };
  const model = new UniversalUNet(config, loadTextEmbedding());
  const x = tf.tensor5d(values(16 * 16 * 8, 4), [1, 8, 16, 16, 1]);
  const classes = [1, 2, 6, 15];
  const run = () =>
    tf.tidy(() => {
      const { value, grads } = tf.variableGrads(() => {
        const out = model.forward(x as tf.Tensor5D, { training: true, bnUpdates: [], batchStatistics: true }, classes).logits;
        return tf.sum(tf.mul(tf.sigmoid(out), tf.linspace(-1, 1, out.size).reshape(out.shape)));
      });
      return { loss: value.dataSync()[0], grads: Object.fromEntries(Object.entries(grads).map(([k, g]) => [k, g.dataSync() as Float32Array])) };
    });
  const saved = process.env.MASSIVE_FUSED_HEADS;
  try {
    process.env.MASSIVE_FUSED_HEADS = "0";
    const plain = run();
    delete process.env.MASSIVE_FUSED_HEADS;
    const fused = run();
    assert.ok(Math.abs(plain.loss - fused.loss) <= 1e-5 * Math.abs(plain.loss), `loss ${plain.loss} vs ${fused.loss}`);
    const names = Object.keys(plain.grads);
    // A conv bias followed by BatchNorm has a zero gradient in exact arithmetic: compare against the
    // largest gradient anywhere as well as the tensor's own.
    const maxAbs = (a: Float32Array) => a.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
    const overall = names.reduce((m, n) => Math.max(m, maxAbs(plain.grads[n])), 0);
    assert.ok(names.some((n) => n.startsWith("controller")) && names.some((n) => n.startsWith("precls")), "the heads' inputs get gradients");
    for (const n of names) {
      const a = plain.grads[n],
        b = fused.grads[n];
      const scale = maxAbs(a);
      const worst = a.reduce((m, v, i) => Math.max(m, Math.abs(v - b[i])), 0);
      assert.ok(worst <= 1e-4 * scale + 1e-6 * overall, `${n}: gradients differ by ${worst} (scale ${scale}, largest gradient ${overall})`);
    }
  } finally {
    if (saved === undefined) delete process.env.MASSIVE_FUSED_HEADS;
    else process.env.MASSIVE_FUSED_HEADS = saved;
    x.dispose();
    model.dispose();
  }
});
