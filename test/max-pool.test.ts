/**
 * The kit's MaxPool3D and MaxPool3DGrad on wasm (src/kernels/wasm/MaxPool3D.ts, max-pool.wat) against the
 * stock tfjs-backend-wasm kernels they replace, on the same inputs: the same bits, zeros, ties, negative
 * values and a first window with nothing above zero included.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { initBackend } from "../src/backend.js";
import { stockWasmKernel } from "../src/kernels/wasm/register-all.js";
import { Rng } from "../src/util/rng.js";

/** Values that make ties and empty windows common: zeros (as after a ReLU), repeats, a few negatives. */
function values(n: number, rng: Rng): Float32Array {
  return Float32Array.from({ length: n }, () => {
    const u = rng.next();
    return u < 0.4 ? 0 : u < 0.5 ? -rng.uniform(0, 1) : u < 0.7 ? Math.round(rng.uniform(0, 3)) : rng.uniform(0, 2);
  });
}

function runStock(name: string, inputs: Record<string, tf.Tensor>, attrs: Record<string, unknown>): Float32Array {
  const k = stockWasmKernel(name);
  assert.ok(k, `the stock ${name} was replaced`);
  const backend = tf.backend();
  const info = k.kernelFunc({ inputs: inputs as unknown as tf.NamedTensorInfoMap, attrs: attrs as tf.NamedAttrMap, backend }) as tf.TensorInfo;
  const out = tf.engine().makeTensorFromTensorInfo(info);
  const v = out.dataSync() as Float32Array;
  out.dispose();
  return v;
}

test("wasm MaxPool3D (2x2x2, stride 2) and its gradient are bit for bit the stock kernels'", async () => {
  await initBackend({ force: "wasm", log: () => {} });
  const rng = new Rng(31);
  for (const shape of [
    [2, 4, 6, 8, 8],
    [1, 2, 2, 2, 4],
    [1, 6, 4, 2, 12],
  ] as [number, number, number, number, number][]) {
    const n = shape.reduce((a, b) => a * b, 1);
    const xs = values(n, rng);
    // The first window of the first channel without a value above zero: the stock kernels' quirk (its
    // maximum starts at FLT_MIN, its gradient position at the tensor's first element).
    if (shape[0] === 1) for (const d of [0, 1]) for (const h of [0, 1]) for (const w of [0, 1]) xs[((d * shape[2] + h) * shape[3] + w) * shape[4]] = 0;
    const x = tf.tensor5d(xs, shape);
    const attrs = { filterSize: [2, 2, 2], strides: [2, 2, 2], pad: "valid", dimRoundingMode: undefined, dataFormat: "NDHWC", dilations: [1, 1, 1] };
    const y = tf.maxPool3d(x, 2, 2, "valid");
    const dy = tf.tensor5d(
      Float32Array.from({ length: y.size }, () => rng.uniform(-1, 1)),
      y.shape as [number, number, number, number, number],
    );
    const dx = tf.grad((a: tf.Tensor) => tf.sum(tf.mul(tf.maxPool3d(a as tf.Tensor5D, 2, 2, "valid"), dy)))(x);
    const bits = (a: ArrayLike<number>) => Array.from(new Uint32Array(Float32Array.from(a).buffer));
    assert.deepEqual(bits(y.dataSync()), bits(runStock(tf.MaxPool3D, { x }, attrs)), `MaxPool3D of [${shape}]`);
    assert.deepEqual(bits(dx.dataSync()), bits(runStock(tf.MaxPool3DGrad, { dy, input: x, output: y }, attrs)), `MaxPool3DGrad of [${shape}]`);
    tf.dispose([x, y, dy, dx]);
  }
});
