import { test } from "node:test";
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { initBackend } from "../src/backend.js";
import { organRatioWeights, oneHotTarget, partialLabelLoss } from "../src/model/loss.js";
import { UniversalUNet } from "../src/model/universal-unet.js";
import { PAPER_WIDTHS } from "../src/profiles.js";
import { loadTextEmbedding } from "../src/model/create.js";
import { Rng } from "../src/util/rng.js";

test("transposed-convolution gradient matches central differences (input and filter)", async () => {
  await initBackend({ log: () => {} });
  const rng = new Rng(1);
  const xs: [number, number, number, number, number] = [1, 2, 3, 2, 3];
  const fs: [number, number, number, number, number] = [2, 2, 2, 4, 3]; // [d, h, w, out, in]
  const x = Float32Array.from({ length: 36 }, () => rng.uniform(-1, 1));
  const w = Float32Array.from({ length: 96 }, () => rng.uniform(-1, 1));
  const r = Float32Array.from({ length: 1 * 4 * 6 * 4 * 4 }, () => rng.uniform(-1, 1));
  const rt = tf.tensor5d(r, [1, 4, 6, 4, 4]);
  const f = (xt: tf.Tensor5D, wt: tf.Tensor5D) => tf.sum(tf.mul(tf.conv3dTranspose(xt, wt, [1, 4, 6, 4, 4], 2, "valid"), rt)) as tf.Scalar;
  const [gx, gw] = tf.grads((a, b) => f(a as tf.Tensor5D, b as tf.Tensor5D))([tf.tensor5d(x, xs), tf.tensor5d(w, fs)]);
  const numeric = (arr: Float32Array, which: 0 | 1, i: number) => {
    const eps = 1e-2;
    const plus = arr.slice(),
      minus = arr.slice();
    plus[i] += eps;
    minus[i] -= eps;
    const ev = (a: Float32Array) => f(tf.tensor5d(which === 0 ? a : x, xs), tf.tensor5d(which === 1 ? a : w, fs)).dataSync()[0];
    return (ev(plus) - ev(minus)) / (2 * eps);
  };
  const gxd = gx.dataSync(),
    gwd = gw.dataSync();
  for (let i = 0; i < x.length; i += 5) assert.ok(Math.abs(gxd[i] - numeric(x, 0, i)) < 2e-3, `dx[${i}] ${gxd[i]} vs ${numeric(x, 0, i)}`);
  for (let i = 0; i < w.length; i += 7) assert.ok(Math.abs(gwd[i] - numeric(w, 1, i)) < 2e-3, `dW[${i}] ${gwd[i]} vs ${numeric(w, 1, i)}`);
});

test("model outputs 32 logits per voxel and a 256-d feature, narrow and paper widths", async () => {
  await initBackend({ log: () => {} });
  for (const widths of [[4, 8, 16, 32, 64], PAPER_WIDTHS] as const) {
    const m = new UniversalUNet(
      { widths: [...widths] as [number, number, number, number, number], featureDim: 256, headChannels: 8, seed: 1 },
      loadTextEmbedding(),
    );
    const x = tf.randomUniform([1, 8, 16, 8, 1]) as tf.Tensor5D;
    const out = m.predict(x);
    assert.deepEqual(out.logits.shape, [1, 8, 16, 8, 32]);
    assert.deepEqual(out.feature.shape, [1, 256]);
    assert.ok(out.logits.dataSync().every(Number.isFinite));
    if (widths === PAPER_WIDTHS) assert.ok(m.params.count() > 19_000_000, `paper-width parameters ${m.params.count()}`);
    tf.dispose([x, out.logits, out.feature]);
    m.dispose();
  }
  const m = new UniversalUNet({ widths: [4, 8, 16, 32, 64], featureDim: 256, headChannels: 8, seed: 1 }, loadTextEmbedding());
  assert.throws(() => m.predict(tf.zeros([1, 12, 16, 8, 1]) as tf.Tensor5D), /divisible by 8/);
  // A subset of classes gives those classes' logits of the full output, in the order asked.
  const x = tf.randomUniform([1, 8, 16, 8, 1], 0, 1, "float32", 3) as tf.Tensor5D;
  const full = m.predict(x);
  const some = m.predict(x, [7, 1, 20]);
  assert.deepEqual(some.logits.shape, [1, 8, 16, 8, 3]);
  const f = full.logits.dataSync(),
    g = some.logits.dataSync();
  for (let v = 0; v < f.length / 32; v++) [7, 1, 20].forEach((k, j) => assert.ok(Math.abs(g[v * 3 + j] - f[v * 32 + k - 1]) < 1e-5, `voxel ${v} class ${k}`));
  assert.throws(() => m.predict(x, [0, 5]), /classes must be ids 1..32/);
  assert.throws(() => m.predict(x, []), /classes must be ids/);
  tf.dispose([x, full.logits, full.feature, some.logits, some.feature]);
  m.dispose();
});

test("organ-ratio weights by hand", () => {
  // Template organs 1, 6, 27; voxels 100, 900, 0 -> ratios 10, 1.11, 0 -> scaled to sum 3: 2.7, 0.3 -> 1, 0.
  const w = organRatioWeights(
    new Map([
      [1, 100],
      [6, 900],
    ]),
    [1, 6, 27],
  );
  assert.ok(Math.abs(w[0] - 2.7) < 1e-12);
  assert.equal(w[1], 1);
  assert.equal(w[2], 0);
  assert.deepEqual(organRatioWeights(new Map(), [1, 2]), [0, 0]);
});

test("partial-label loss: only template organs count; BCE term is part of the loss; perfect logits -> ~0", async () => {
  await initBackend({ log: () => {} });
  const label = new Uint8Array(4 * 4 * 2);
  label.fill(6, 0, 16);
  label.fill(1, 16, 20); // spleen voxels: not in this template, must not matter
  const target = oneHotTarget(label, [4, 4, 2], [6]);
  const good = tf.tidy(() => {
    const l = tf.buffer([2, 4, 4, 32]);
    for (let i = 0; i < 32; i++) l.set(label[i] === 6 ? 20 : -20, Math.floor(i / 16), Math.floor(i / 4) % 4, i % 4, 5);
    return l.toTensor() as tf.Tensor4D;
  });
  // Squared whole-patch Dice: a perfect prediction has loss ~0. The reference's row Dice keeps its smooth 1
  // in the denominator: each x-row holds 4 organ voxels of 8, so a perfect row scores 2*4 / (4 + 4 + 1).
  assert.ok(partialLabelLoss(good, target, [5], [1], "squared").loss.dataSync()[0] < 1e-3);
  const r = partialLabelLoss(good, target, [5], [1]);
  assert.ok(Math.abs(r.loss.dataSync()[0] - (1 - 8 / 9)) < 1e-3, `loss ${r.loss.dataSync()[0]}`);
  // Changing a class outside the template changes nothing.
  const other = tf.add(good, tf.oneHot(tf.fill([2, 4, 4], 0, "int32"), 32).mul(50)) as tf.Tensor4D;
  assert.ok(Math.abs(partialLabelLoss(other, target, [5], [1]).loss.dataSync()[0] - r.loss.dataSync()[0]) < 1e-6);
  const bad = tf.neg(good) as tf.Tensor4D;
  const rb = partialLabelLoss(bad, target, [5], [1]);
  assert.ok(rb.loss.dataSync()[0] > 1.5 && rb.bce.dataSync()[0] > 5, `bad loss ${rb.loss.dataSync()[0]}, bce ${rb.bce.dataSync()[0]}`);
  assert.ok(rb.bce.dataSync()[0] < rb.loss.dataSync()[0]);
});
