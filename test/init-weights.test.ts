import { test, before } from "node:test";
import assert from "node:assert/strict";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import * as tf from "@tensorflow/tfjs";
import { initBackend } from "../src/backend.js";
import { applyGenesisWeights, loadGenesisWeights } from "../src/model/init-weights.js";
import { readTorchCheckpoint, stateDictOf } from "../src/model/torch-checkpoint.js";
import { UniversalUNet, type ModelConfig } from "../src/model/universal-unet.js";
import { tempDir } from "./helpers.js";

// Written by test/fixtures/genesis_narrow.py with Debian's PyTorch (a Models Genesis UNet3D at widths 2-4-4-8-16).
const FIXTURES = join(fileURLToPath(new URL(".", import.meta.url)), "..", "..", "test", "fixtures");
const PT = join(FIXTURES, "genesis-narrow.pt");
const IO = join(FIXTURES, "genesis-narrow.io.bin");
const LEGACY = join(FIXTURES, "genesis-narrow-legacy.pt");
const SHAPE = [16, 16, 8]; // the reference's [X, Y, Z]
const WIDTHS: ModelConfig["widths"] = [2, 4, 4, 8, 16];

const embedding = Array.from({ length: 32 }, (_, i) => Array.from({ length: 512 }, (_, j) => Math.sin(i + j)));
const model = (widths = WIDTHS) =>
  new UniversalUNet({ widths, featureDim: 8, headChannels: 8, seed: 1, init: "pytorch", inferenceBatchNorm: "batch" }, embedding);

before(async () => {
  await initBackend({ log: () => {} });
});

test("torch checkpoint reader: the zip's pickle and storages give every tensor with its shape and dtype", () => {
  const sd = stateDictOf(readTorchCheckpoint(readFileSync(PT), PT), PT);
  assert.equal(sd.size, 106);
  const w = sd.get("module.down_tr64.ops.0.conv1.weight")!;
  assert.deepEqual([w.dtype, w.shape], ["float32", [2, 1, 3, 3, 3]]);
  const nbt = sd.get("module.down_tr64.ops.0.bn1.num_batches_tracked")!;
  assert.deepEqual([nbt.dtype, nbt.shape, Array.from(nbt.values)], ["int64", [], [7]]);
  assert.deepEqual(sd.get("module.up_tr256.up_conv.weight")!.shape, [16, 16, 2, 2, 2]);
});

test("torch checkpoint reader: the legacy (pre-1.6) format gives the same tensors as the zip format", () => {
  const zip = stateDictOf(readTorchCheckpoint(readFileSync(PT), PT), PT);
  const legacy = stateDictOf(readTorchCheckpoint(readFileSync(LEGACY), LEGACY), LEGACY);
  assert.equal(legacy.size, 9); // conv1 weight, bias; bn1 x 5; out_tr weight, bias
  for (const [name, t] of legacy) assert.deepEqual(t, zip.get(name), name);
  const m = model();
  try {
    const r = loadGenesisWeights(m, LEGACY);
    assert.deepEqual(r.loaded.sort(), ["down0.a.bn.beta", "down0.a.bn.gamma", "down0.a.bn.runMean", "down0.a.bn.runVar", "down0.a.conv.b", "down0.a.conv.w"]);
    assert.ok(r.left.includes("down0.b.conv.w") && r.left.includes("up0.a.conv.w0"));
    const w = zip.get("module.down_tr64.ops.0.conv1.weight")!; // [out 2, in 1, x, y, z] -> [z, y, x, in, out]
    const kit = m.params.get("down0.a.conv.w").dataSync();
    assert.ok(Math.abs(kit[(((2 * 3 + 1) * 3 + 0) * 1 + 0) * 2 + 1] - w.values[((1 * 1 + 0) * 3 + 0) * 9 + 1 * 3 + 2]) < 1e-7);
  } finally {
    m.dispose();
  }
});

test("--init: Models Genesis names mapped onto the backbone; the kit's forward equals PyTorch's to 1e-4", () => {
  const m = model();
  try {
    const r = loadGenesisWeights(m, PT);
    // 4 down + 3 up levels, 2 conv blocks each: conv w, conv b, 4 BatchNorm arrays; the 3 up.a convs in two
    // blocks; 3 transposed convs (w, b).
    assert.equal(r.loaded.length, 14 * 6 + 3 + 3 * 2);
    assert.ok(r.loaded.includes("up0.a.conv.w0") && r.loaded.includes("up2.t.w") && r.loaded.includes("down3.b.bn.runVar"));
    assert.ok(r.left.length > 0 && r.left.every((n) => /^(gap|text|controller|precls)\./.test(n)), r.left.join(","));
    assert.ok(r.unused.includes("module.out_tr.final_conv.weight"));
    assert.ok(r.unused.includes("module.down_tr64.ops.0.bn1.num_batches_tracked"));

    const io = new Float32Array(readFileSync(IO).buffer.slice(0));
    const [X, Y, Z] = SHAPE;
    const V = X * Y * Z;
    const w4 = WIDTHS[4],
      w1 = WIDTHS[1];
    const x = io.subarray(0, V);
    const ref512 = io.subarray(V, V + w4 * 2 * 2 * 1);
    const ref64 = io.subarray(V + w4 * 4, V + w4 * 4 + w1 * V);
    assert.equal(io.length, V + w4 * 4 + w1 * V);
    // Reference [1, 1, X, Y, Z] -> kit NDHWC [1, Z, Y, X, 1].
    const kitX = new Float32Array(V);
    for (let ix = 0; ix < X; ix++) for (let iy = 0; iy < Y; iy++) for (let iz = 0; iz < Z; iz++) kitX[(iz * Y + iy) * X + ix] = x[(ix * Y + iy) * Z + iz];
    const { bottleneck, decoder } = tf.tidy(() => m.backbone(tf.tensor5d(kitX, [1, Z, Y, X, 1]), { training: false, bnUpdates: [], batchStatistics: true }));
    const dec = decoder.dataSync();
    const bot = bottleneck.dataSync();
    assert.deepEqual(decoder.shape, [1, Z, Y, X, w1]);
    let maxErr = 0;
    for (let c = 0; c < w1; c++)
      for (let ix = 0; ix < X; ix++)
        for (let iy = 0; iy < Y; iy++)
          for (let iz = 0; iz < Z; iz++) maxErr = Math.max(maxErr, Math.abs(dec[((iz * Y + iy) * X + ix) * w1 + c] - ref64[((c * X + ix) * Y + iy) * Z + iz]));
    const [bx, by, bz] = [2, 2, 1];
    for (let c = 0; c < w4; c++)
      for (let ix = 0; ix < bx; ix++)
        for (let iy = 0; iy < by; iy++)
          for (let iz = 0; iz < bz; iz++)
            maxErr = Math.max(maxErr, Math.abs(bot[((iz * by + iy) * bx + ix) * w4 + c] - ref512[((c * bx + ix) * by + iy) * bz + iz]));
    tf.dispose([bottleneck, decoder]);
    console.log(`init-weights: max abs diff ${maxErr}`);
    assert.ok(maxErr < 1e-4, `max |kit - torch| = ${maxErr}`);
    // And the output is not trivially small: the comparison means something.
    assert.ok(ref64.reduce((a, v) => a + Math.abs(v), 0) / ref64.length > 0.1);
  } finally {
    m.dispose();
  }
});

test("--init: clear errors for a file that is not a checkpoint, a truncated one, and one whose shapes do not fit", async () => {
  const dir = tempDir();
  const bytes = readFileSync(PT);
  const notPt = join(dir, "notes.pt");
  writeFileSync(notPt, "just some text\n");
  const truncated = join(dir, "truncated.pt");
  writeFileSync(truncated, bytes.subarray(0, Math.floor(bytes.length / 2)));
  const legacy = join(dir, "legacy.pt");
  writeFileSync(legacy, Uint8Array.from([0x80, 0x02, 0x8a, 0x0a, 0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19]));
  const m = model();
  const wide = model([2, 4, 4, 8, 32]);
  try {
    assert.throws(() => loadGenesisWeights(m, notPt), /not a PyTorch checkpoint/);
    assert.throws(() => loadGenesisWeights(m, truncated), /truncated/);
    assert.throws(() => loadGenesisWeights(m, legacy), /truncated/); // the legacy magic number and nothing else
    const legacyCut = join(dir, "legacy-cut.pt");
    const lb = readFileSync(LEGACY);
    writeFileSync(legacyCut, lb.subarray(0, lb.length - 10));
    assert.throws(() => loadGenesisWeights(m, legacyCut), /truncated/);
    assert.throws(() => loadGenesisWeights(m, join(dir, "missing.pt")), /cannot read/);
    // Shapes: nothing is assigned when anything mismatches, and every mismatch is listed.
    const before = (await wide.params.exportArrays()).map((a) => Array.from(a.values));
    assert.throws(
      () => loadGenesisWeights(wide, PT),
      (e: Error) =>
        /do not fit the model/.test(e.message) &&
        /down_tr512\.ops\.1\.conv1\.weight -> down3\.b\.conv\.w/.test(e.message) &&
        /up_tr256\.ops\.0\.conv1\.weight/.test(e.message),
    );
    assert.deepEqual(
      (await wide.params.exportArrays()).map((a) => Array.from(a.values)),
      before,
    );
    // A state dict with none of the Genesis names.
    assert.deepEqual(applyGenesisWeights(m, new Map(), "empty").loaded, []);
  } finally {
    m.dispose();
    wide.dispose();
  }
});

test("train({ init }) loads the weights right after creating the model and logs what was loaded and left", async () => {
  const { defaultConfig } = await import("../src/train/config.js");
  const { train } = await import("../src/train/trainer.js");
  const { smokePrepared } = await import("./fixtures.js");
  const base = defaultConfig("smoke", "lm", { memorySize: 2, samplingRate: 1, seed: 2 });
  const config = { ...base, model: { ...base.model, widths: WIDTHS } };
  const lines: string[] = [];
  const r = await train({ config, data: smokePrepared(), sites: ["D1"], init: PT, stopAfter: 1, progress: false, log: (l) => lines.push(l) });
  r.dispose();
  assert.ok(
    lines.some((l) => l.startsWith(`init: loaded 93 parameters from ${PT}`)),
    lines.join("\n"),
  );
  assert.ok(
    lines.some((l) => /^init: left at their initialisation: \d+: gap\.gn\.gamma/.test(l)),
    lines.join("\n"),
  );
  // 14 num_batches_tracked + out_tr.final_conv weight and bias.
  assert.ok(
    lines.some((l) => l.startsWith("init: not used from the checkpoint: 16: ")),
    lines.join("\n"),
  );
  // Widths that do not fit: the run does not start.
  await assert.rejects(
    train({ config: base, data: smokePrepared(), sites: ["D1"], init: PT, stopAfter: 1, progress: false, log: () => {} }),
    /do not fit the model/,
  );
});
