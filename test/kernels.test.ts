import { test } from "node:test";
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { initBackend } from "../src/backend.js";
import { Rng } from "../src/util/rng.js";
import { CASES, checkConvCase, rand, relErr } from "./conv-reference.js";
import { setColumnBlockFloats } from "../src/kernels/conv3d-im2col.js";
import { useJavaScriptColumnLoops } from "../src/kernels/wasm/arena.js";
import { columnLoopsInUse } from "../src/kernels/wasm/wasm-backend.js";
import { setSplitColumnFloats } from "../src/kernels/conv3d-parallel.js";
import { setConvWorker } from "../src/kernels/conv-worker-pool.js";
import { startedConvWorker } from "./helpers.js";

/**
 * The wasm Conv3D kernels (src/kernels) against float64 reference loops, on random inputs (never zeros):
 * relative error <= 1e-4 of the output's scale, for odd sizes, 'same' and 'valid', strides 1 and 2,
 * channels 1 to 64, batch 1 and 2.
 */
// Each case runs with the default column blocks, with one line per block (many blocks, partial last
// block), on the portable JavaScript column loops instead of columns.wasm, and split into two depth
// parts (computed on the main thread, and with the second part on the convolution worker).
const SETTINGS = [
  { name: "columns.wasm, default blocks", blockFloats: 256 * 1024, js: false, split: false },
  { name: "columns.wasm, one line per block", blockFloats: 1, js: false, split: false },
  { name: "JavaScript loops, one line per block", blockFloats: 1, js: true, split: false },
  { name: "two depth parts, main thread only", blockFloats: 256 * 1024, js: false, split: true },
];

test("wasm Conv3D, input and filter gradients match float64 loops (rel. err <= 1e-4)", async () => {
  const report = await initBackend({ log: () => {}, force: "wasm" });
  assert.equal(report.backend, "wasm");
  tf.tidy(() => tf.conv3d(tf.ones([1, 2, 2, 2, 1]) as tf.Tensor5D, tf.ones([1, 1, 1, 1, 1]) as tf.Tensor5D, 1, "same"));
  assert.equal(columnLoopsInUse, "wasm", "columns.wasm should load (npm run build assembles it)");
  for (const setting of SETTINGS) {
    const before = setColumnBlockFloats(setting.blockFloats);
    const splitBefore = setSplitColumnFloats(setting.split ? 1 : Infinity);
    const workerBefore = setConvWorker(undefined);
    useJavaScriptColumnLoops(setting.js);
    try {
      await checkCases(setting.name);
    } finally {
      setColumnBlockFloats(before);
      setSplitColumnFloats(splitBefore);
      setConvWorker(workerBefore);
      useJavaScriptColumnLoops(false);
    }
  }
});

async function checkCases(setting: string): Promise<void> {
  const rng = new Rng(2024);
  for (const c of CASES) await checkConvCase(c, rng, setting);
}

test("the convolution worker computes parts bit-identical to the main thread, and to the float64 loops", async () => {
  await initBackend({ log: () => {}, force: "wasm" });
  const worker = await startedConvWorker();
  const splitBefore = setSplitColumnFloats(1);
  try {
    const jobs = worker.jobsDone;
    await checkCases("two depth parts, second on the worker");
    assert.ok(worker.jobsDone > jobs, "the worker computed no part");
    // Same inputs with and without the worker: the same bits (training stays deterministic).
    const rng = new Rng(9);
    const x = tf.tensor5d(Float32Array.from(rand([2, 9, 8, 7, 8], rng)), [2, 9, 8, 7, 8]);
    const w = tf.tensor5d(Float32Array.from(rand([3, 3, 3, 8, 6], rng)), [3, 3, 3, 8, 6]);
    const run = () =>
      tf.tidy(() => {
        const [dx, dw] = tf.grads((a, b) => tf.sum(tf.square(tf.conv3d(a as tf.Tensor5D, b as tf.Tensor5D, 1, "same"))))([x, w]);
        return [tf.conv3d(x, w, 1, "same").dataSync(), dx.dataSync(), dw.dataSync()];
      });
    const backend = tf.engine().backend as unknown as { numDataIds(): number };
    const buffers = backend.numDataIds();
    const withWorker = run();
    setConvWorker(undefined);
    const alone = run();
    setConvWorker(worker);
    // The parts' slabs, results and the flipped filters are all freed.
    assert.equal(backend.numDataIds(), buffers, "backend buffers left behind by the split kernels");
    withWorker.forEach((a, i) => assert.deepEqual(Array.from(a), Array.from(alone[i]), `output ${i}`));
    tf.dispose([x, w]);
  } finally {
    setSplitColumnFloats(splitBefore);
  }
});

test("wasm BatchMatMul (all transpose flags, swapped and per-batch paths) equals float64 loops", async () => {
  await initBackend({ log: () => {}, force: "wasm" });
  const rng = new Rng(17);
  // [batch, M, K, N]: plain shapes; a small first operand with a big second one (computed as C^T = B^T A^T);
  // batched products with small second operands (one XNNPACK product per batch item).
  const shapes = [
    [1, 5, 7, 3],
    [1, 4, 3000, 40],
    [1, 300, 2, 9],
    [3, 6, 5, 4],
    [4, 200, 8, 8],
    [2, 1, 9, 1],
  ];
  for (const [B, M, K, N] of shapes)
    for (const tA of [false, true])
      for (const tB of [false, true]) {
        const a = rand([B, ...(tA ? [K, M] : [M, K])], rng);
        const b = rand([B, ...(tB ? [N, K] : [K, N])], rng);
        const want = new Float64Array(B * M * N);
        for (let i = 0; i < B; i++)
          for (let m = 0; m < M; m++)
            for (let n = 0; n < N; n++) {
              let acc = 0;
              for (let k = 0; k < K; k++) acc += a[i * M * K + (tA ? k * M + m : m * K + k)] * b[i * K * N + (tB ? n * K + k : k * N + n)];
              want[(i * M + m) * N + n] = acc;
            }
        const at = tf.tensor3d(Float32Array.from(a), [B, ...(tA ? [K, M] : [M, K])] as [number, number, number]);
        const bt = tf.tensor3d(Float32Array.from(b), [B, ...(tB ? [N, K] : [K, N])] as [number, number, number]);
        const c = tf.matMul(at, bt, tA, tB);
        assert.deepEqual(c.shape, [B, M, N]);
        const name = JSON.stringify({ B, M, K, N, tA, tB });
        assert.ok(relErr(c.dataSync(), want) <= 1e-4, `${name}: ${relErr(c.dataSync(), want)}`);
        if (B === 1) {
          const c2 = tf.matMul(tf.squeeze(at, [0]) as tf.Tensor2D, tf.squeeze(bt, [0]) as tf.Tensor2D, tA, tB);
          assert.deepEqual(c2.shape, [M, N], name);
          assert.ok(relErr(c2.dataSync(), want) <= 1e-4, `2D ${name}`);
          c2.dispose();
        }
        tf.dispose([at, bt, c]);
      }
});

test("wasm matMul with transposed operands equals the plain product", async () => {
  await initBackend({ log: () => {}, force: "wasm" });
  const rng = new Rng(3);
  const a = tf.tensor3d(Float32Array.from(rand([2, 5, 7], rng)), [2, 5, 7]);
  const b = tf.tensor3d(Float32Array.from(rand([2, 7, 3], rng)), [2, 7, 3]);
  const plain = tf.matMul(a, b).dataSync();
  const viaT = tf.matMul(tf.transpose(a, [0, 2, 1]), tf.transpose(b, [0, 2, 1]), true, true).dataSync();
  plain.forEach((v, i) => assert.ok(Math.abs(v - viaT[i]) < 1e-5));
  // No tensors and no backend buffers left behind by the kernels' temporaries.
  const backend = tf.engine().backend as unknown as { numDataIds(): number };
  const tensors = tf.memory().numTensors;
  const buffers = backend.numDataIds();
  tf.tidy(() => {
    tf.matMul(a, tf.transpose(b, [0, 2, 1]), false, true);
    const x = tf.randomUniform([1, 5, 6, 7, 3]) as tf.Tensor5D;
    const w = tf.randomUniform([3, 3, 3, 3, 4]) as tf.Tensor5D;
    tf.grads((p, q) => tf.sum(tf.conv3d(p as tf.Tensor5D, q as tf.Tensor5D, 1, "same")))([x, w]);
  });
  assert.equal(tf.memory().numTensors, tensors);
  assert.equal(backend.numDataIds(), buffers);
});
