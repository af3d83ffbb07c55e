/**
 * The rules the training study (docs/training-study.md) brought in line with the reference: the Dice
 * loss's form, batch-statistics BatchNorm at inference, PyTorch's default initialisation, and
 * sliding-window blending of logits.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { initBackend } from "../src/backend.js";
import { oneHotTarget, partialLabelLoss } from "../src/model/loss.js";
import { UniversalUNet, type ModelConfig } from "../src/model/universal-unet.js";
import { foregroundThreshold, slidingWindow } from "../src/eval/sliding-window.js";
import { loadTextEmbedding } from "../src/model/create.js";
import { diagonalAffine } from "../src/data/volume.js";
import { postLabel } from "../src/data/post-label.js";

const sigmoid = (v: number) => 1 / (1 + Math.exp(-v));

test("Dice loss as the reference's BinaryDiceLoss: rows along x, smooth 1 below, mean over rows (by hand)", async () => {
  await initBackend({ log: () => {} });
  // A volume of x = 3, y = 2, z = 1 (tensor [z, y, x]); organ 6 at x = 0 (both y) and at (x = 1, y = 0);
  // row x = 2 has no organ.
  const shape: [number, number, number] = [3, 2, 1];
  const label = Uint8Array.from([6, 6, 0, 6, 0, 0]); // x fastest: (0,0) (1,0) (2,0) (0,1) (1,1) (2,1)
  const logitValues = [2, -1, 0.5, 1, 3, -2];
  const logits = tf.tensor4d(logitValues, [1, 2, 3, 1]);
  const target = oneHotTarget(label, shape, [6]);
  const r = partialLabelLoss(logits, target, [0], [1], "rows");
  // By hand, per row x: dice = 2 * sum(p t) / (sum p + sum t + 1) over the row's two voxels (y = 0, 1).
  const p = logitValues.map(sigmoid);
  const row = (x: number) => {
    const ps = [p[x], p[x + 3]];
    const ts = [label[x] === 6 ? 1 : 0, label[x + 3] === 6 ? 1 : 0];
    const inter = ps[0] * ts[0] + ps[1] * ts[1];
    return 1 - (2 * inter) / (ps[0] + ps[1] + ts[0] + ts[1] + 1);
  };
  const diceLoss = (row(0) + row(1) + row(2)) / 3;
  // Row x = 2 has no organ: its loss is 1 - 0 / (...) = 1, a constant.
  assert.equal(row(2), 1);
  // Row x = 0 in numbers: p = sigmoid(2) = 0.8808, sigmoid(1) = 0.7311; 1 - 2*1.6119 / (1.6119 + 2 + 1).
  assert.ok(Math.abs(row(0) - (1 - (2 * 1.611856) / 4.611856)) < 1e-5);
  const bce = logitValues.reduce((s, v, i) => s + Math.max(v, 0) - v * (label[i] === 6 ? 1 : 0) + Math.log1p(Math.exp(-Math.abs(v))), 0) / 6;
  assert.ok(Math.abs(r.loss.dataSync()[0] - (diceLoss + bce)) < 1e-5, `loss ${r.loss.dataSync()[0]} vs ${diceLoss + bce}`);
  assert.ok(Math.abs(r.bce.dataSync()[0] - bce) < 1e-6);
  // The squared whole-patch form is a different number on the same input.
  const sq = partialLabelLoss(logits, target, [0], [1], "squared").loss.dataSync()[0];
  assert.ok(Math.abs(sq - r.loss.dataSync()[0]) > 1e-3);
  // Weights scale each organ's Dice and BCE; the mean is over the template's organs.
  const w = partialLabelLoss(logits, target, [0], [2.5], "rows").loss.dataSync()[0];
  assert.ok(Math.abs(w - 2.5 * (diceLoss + bce)) < 1e-5);
  tf.dispose([logits, target]);
});

const smallConfig = (extra: Partial<ModelConfig> = {}): ModelConfig => ({ widths: [4, 8, 16, 32, 64], featureDim: 256, headChannels: 8, seed: 3, ...extra });

test("BatchNorm at inference uses each window's own statistics (ContBatchNorm3d); running statistics only on request", async () => {
  await initBackend({ log: () => {} });
  const x = tf.randomUniform([1, 8, 16, 16, 1], 0, 1, "float32", 5) as tf.Tensor5D;
  const m = new UniversalUNet(smallConfig(), loadTextEmbedding());
  const train = m.forward(x, { training: true, bnUpdates: [] });
  const infer = m.predict(x);
  const a = train.logits.dataSync(),
    b = infer.logits.dataSync();
  for (let i = 0; i < a.length; i++) assert.ok(Math.abs(a[i] - b[i]) < 1e-5, `voxel ${i}: training ${a[i]} vs inference ${b[i]}`);
  // Garbage running statistics change nothing in the default mode...
  for (const [name, v] of m.params.buffers) if (name.endsWith("runMean")) v.assign(tf.fill(v.shape, 7));
  const again = m.predict(x).logits.dataSync();
  for (let i = 0; i < a.length; i++) assert.ok(Math.abs(again[i] - b[i]) < 1e-6);
  // ...and everything in the "running" mode.
  const r = new UniversalUNet(smallConfig({ inferenceBatchNorm: "running" }), loadTextEmbedding());
  const before = r.predict(x).logits.dataSync();
  for (const [name, v] of r.params.buffers) if (name.endsWith("runMean")) v.assign(tf.fill(v.shape, 7));
  const after = r.predict(x).logits.dataSync();
  assert.ok(before.some((v, i) => Math.abs(v - after[i]) > 1e-3));
  m.dispose();
  r.dispose();
  tf.dispose([x, train.logits, train.feature, infer.logits, infer.feature]);
});

test("PyTorch's default initialisation: weights and biases uniform in +-1/sqrt(fan_in)", async () => {
  await initBackend({ log: () => {} });
  const m = new UniversalUNet(smallConfig(), loadTextEmbedding());
  const check = (name: string, fanIn: number) => {
    const v = Array.from(m.params.get(name).dataSync());
    const bound = 1 / Math.sqrt(fanIn);
    const max = v.reduce((s, x) => Math.max(s, Math.abs(x)), 0);
    const sd = Math.sqrt(v.reduce((s, x) => s + x * x, 0) / v.length);
    assert.ok(max <= bound && max > 0.8 * bound, `${name}: max |w| ${max}, bound ${bound}`);
    if (v.length >= 200) assert.ok(Math.abs(sd - bound / Math.sqrt(3)) < 0.15 * bound, `${name}: sd ${sd} vs ${bound / Math.sqrt(3)}`);
  };
  check("down1.a.conv.w", 27 * 8);
  check("down1.a.conv.b", 27 * 8);
  check("up0.a.conv.w0", 27 * (64 + 32)); // the concatenated input's fan-in
  check("up0.t.w", 8 * 64); // ConvTranspose3d: fan-in from the output channels
  check("gap.w", 64);
  check("precls.w", 8);
  check("controller.b", 512);
  const he = new UniversalUNet(smallConfig({ init: "he" }), loadTextEmbedding());
  assert.equal(
    he.params
      .get("down1.a.conv.b")
      .dataSync()
      .every((v) => v === 0),
    true,
  );
  m.dispose();
  he.dispose();
});

test("sliding window blends logits (the reference) or probabilities (an option): different masks where they disagree", async () => {
  await initBackend({ log: () => {} });
  // A 24-voxel line in x, window 16: windows start at x = 0 and x = 8. The first predicts logit +1
  // everywhere, the second -30. At x = 10 the first window's Gaussian weight is ~20x the second's:
  // blended logits are below 0 (background), blended probabilities above 0.5 (foreground).
  const image = {
    shape: [24, 8, 8] as [number, number, number],
    spacing: [1, 1, 1] as [number, number, number],
    affine: diagonalAffine([1, 1, 1]),
    data: new Float32Array(24 * 64),
  };
  let calls = 0;
  const predict = () => tf.fill([1, 8, 8, 16, 1], calls++ === 0 ? 1 : -30) as tf.Tensor5D;
  const logits = (await slidingWindow(predict, image, [16, 8, 8], [1], { blend: "logits" }))[0];
  calls = 0;
  const probs = (await slidingWindow(predict, image, [16, 8, 8], [1], { blend: "probabilities" }))[0];
  const g = (i: number) => Math.exp(-((i - 7.5) ** 2) / (2 * 2 * 2)); // sigma = 0.125 * 16
  const a = g(10),
    b = g(2); // x = 10 is local 10 of the first window and local 2 of the second
  const v = 10 + 24 * (4 + 8 * 4);
  assert.ok(Math.abs(logits[v] - (a * 1 + b * -30) / (a + b)) < 1e-4, `blended logit ${logits[v]}`);
  assert.ok(Math.abs(probs[v] - (a * sigmoid(1) + b * sigmoid(-30)) / (a + b)) < 1e-4, `blended probability ${probs[v]}`);
  assert.ok(logits[v] < foregroundThreshold("logits"));
  assert.ok(probs[v] > foregroundThreshold("probabilities"));
});

test("the loss over several template organs, by hand: organ-ratio weights, mean over the template's T organs, a tumour voxel counted in its organ too", async () => {
  await initBackend({ log: () => {} });
  // x = 3, y = 2, z = 2; logits for C = 3 channels, the template's organs are Liver (6, channel 0) and
  // Liver Tumor (27, channel 2); channel 1 is not in the template and must not count.
  const shape: [number, number, number] = [3, 2, 2];
  const n = 12;
  const liver = postLabel(6, 0);
  const tumourInLiver = postLabel(6, 27);
  const label = Uint8Array.from([liver, liver, 0, tumourInLiver, 0, 0, 0, liver, 0, 0, 0, tumourInLiver]);
  const logitValues = Array.from({ length: n * 3 }, (_, i) => Math.sin(1.7 * i) * 2);
  const logits = tf.tensor4d(logitValues, [2, 2, 3, 3]);
  const organs = [6, 27];
  const weights = [0.4, 2.5];
  const target = oneHotTarget(label, shape, organs);
  const r = partialLabelLoss(logits, target, [0, 2], weights, "rows");
  // By hand: voxel v = x + 3 * (y + 2 * z); channel c of voxel v at logitValues[3 * v + c].
  const t = (v: number, k: number) => (k === 0 ? (label[v] === liver || label[v] === tumourInLiver ? 1 : 0) : label[v] === tumourInLiver ? 1 : 0);
  const channel = [0, 2];
  let diceSum = 0,
    bceSum = 0;
  for (let k = 0; k < 2; k++) {
    const z = (v: number) => logitValues[3 * v + channel[k]];
    let rows = 0;
    for (let x = 0; x < 3; x++) {
      let pt = 0,
        ps = 0,
        ts = 0;
      for (let v = x; v < n; v += 3) {
        pt += sigmoid(z(v)) * t(v, k);
        ps += sigmoid(z(v));
        ts += t(v, k);
      }
      rows += 1 - (2 * pt) / (ps + ts + 1);
    }
    let bce = 0;
    for (let v = 0; v < n; v++) bce += -(t(v, k) * Math.log(sigmoid(z(v))) + (1 - t(v, k)) * Math.log(1 - sigmoid(z(v))));
    diceSum += weights[k] * (rows / 3);
    bceSum += weights[k] * (bce / n);
  }
  const want = diceSum / 2 + bceSum / 2;
  assert.ok(Math.abs(r.loss.dataSync()[0] - want) < 1e-5, `loss ${r.loss.dataSync()[0]} vs by hand ${want}`);
  assert.ok(Math.abs(r.bce.dataSync()[0] - bceSum / 2) < 1e-5, "BCE term");
  tf.dispose([logits, target, r.loss, r.bce, r.perOrgan]);
});
