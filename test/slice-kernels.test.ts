import { test } from "node:test";
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { initBackend } from "../src/backend.js";
import { planSlice, runSlicePlan } from "../src/kernels/slice-plan.js";
import { Rng } from "../src/util/rng.js";

/** x[begin : begin + size] by multi-index arithmetic, the definition the fast path must match. */
function sliceByIndex(x: Float64Array, shape: number[], begin: number[], size: number[]): number[] {
  const out: number[] = [];
  const n = size.reduce((a, b) => a * b, 1);
  const strides = shape.map((_, i) => shape.slice(i + 1).reduce((a, b) => a * b, 1));
  for (let flat = 0; flat < n; flat++) {
    let rest = flat,
      src = 0;
    for (let a = size.length - 1; a >= 0; a--) {
      src += (begin[a] + (rest % size[a])) * strides[a];
      rest = Math.floor(rest / size[a]);
    }
    out.push(x[src]);
  }
  return out;
}

function randomSlice(rng: Rng, rank: number) {
  const shape = Array.from({ length: rank }, () => 1 + Math.floor(rng.uniform(0, 6)));
  const begin = shape.map((d) => Math.floor(rng.uniform(0, d)));
  const size = shape.map((d, i) => (rng.uniform(0, 1) < 0.4 ? d - begin[i] : 1 + Math.floor(rng.uniform(0, d - begin[i]))));
  return { shape, begin: size.map((z, i) => (z === shape[i] ? 0 : begin[i])), size };
}

test("planSlice merges whole inner axes and copies exactly the slice", () => {
  // A channel split of a [1, 4, 4, 4, 16] tensor: one walk of 64 rows of 8 elements.
  const p = planSlice([1, 4, 4, 4, 16], [0, 0, 0, 0, 8], [1, 4, 4, 4, 8]);
  assert.deepEqual([p.outerCounts.length, p.rows, p.rowLength, p.rowStride, p.start], [0, 64, 8, 16, 8]);
  const rng = new Rng(11);
  for (let t = 0; t < 300; t++) {
    const { shape, begin, size } = randomSlice(rng, 1 + (t % 6));
    const n = shape.reduce((a, b) => a * b, 1);
    const x = Float64Array.from({ length: n }, (_, i) => i + 0.5);
    const out = new Float64Array(size.reduce((a, b) => a * b, 1)).fill(NaN);
    runSlicePlan(planSlice(shape, begin, size), (d, s, rows, len, ds, ss) => {
      for (let r = 0; r < rows; r++) for (let i = 0; i < len; i++) out[d + r * ds + i] = x[s + r * ss + i];
    });
    assert.deepEqual(Array.from(out), sliceByIndex(x, shape, begin, size), JSON.stringify({ shape, begin, size }));
  }
  assert.throws(() => planSlice([4, 4], [3, 0], [2, 4]), /outside shape/);
});

test("wasm Slice and SplitV (rank 1-6, float32 and int32) equal the index definition", async () => {
  await initBackend({ log: () => {}, force: "wasm" });
  const rng = new Rng(5);
  for (let t = 0; t < 60; t++) {
    const { shape, begin, size } = randomSlice(rng, 1 + (t % 6));
    const n = shape.reduce((a, b) => a * b, 1);
    const x = Float64Array.from({ length: n }, () => Math.round(rng.uniform(-1000, 1000)));
    const want = sliceByIndex(x, shape, begin, size);
    for (const dtype of ["float32", "int32"] as const) {
      const xt = tf.tensor(Array.from(x), shape, dtype);
      const got = tf.slice(xt, begin, size);
      assert.deepEqual(got.shape, size);
      assert.deepEqual(Array.from(got.dataSync()), want, `${dtype} ${JSON.stringify({ shape, begin, size })}`);
      tf.dispose([xt, got]);
    }
  }
  // SplitV along every axis of a rank-5 tensor, with uneven parts; the parts concatenate back.
  const x = tf.randomUniform([2, 3, 4, 5, 6], -1, 1);
  const xv = Float64Array.from(x.dataSync());
  for (let axis = 0; axis < 5; axis++) {
    const d = x.shape[axis];
    const parts = tf.split(x, d > 2 ? [1, d - 1] : 2, axis);
    parts.forEach((p, i) => {
      const begin = [0, 0, 0, 0, 0];
      begin[axis] = i === 0 ? 0 : parts[0].shape[axis];
      assert.deepEqual(Array.from(p.dataSync()), sliceByIndex(xv, x.shape, begin, p.shape).map(Math.fround), `split axis ${axis} part ${i}`);
    });
    const back = tf.concat(parts, axis);
    assert.deepEqual(Array.from(back.dataSync()), Array.from(x.dataSync()));
    tf.dispose([...parts, back]);
  }
  x.dispose();
});

test("wasm Transpose (rows kept, last two swapped, and other permutations) equals the index definition", async () => {
  await initBackend({ log: () => {}, force: "wasm" });
  const rng = new Rng(23);
  const perms = [
    [1, 0],
    [0, 2, 1],
    [1, 0, 2],
    [2, 0, 1],
    [0, 1, 3, 2],
    [2, 1, 0, 3],
    [3, 1, 2, 0],
  ];
  for (const perm of perms)
    for (let t = 0; t < 6; t++) {
      const shape = perm.map(() => 1 + Math.floor(rng.uniform(0, 9)));
      const n = shape.reduce((a, b) => a * b, 1);
      const x = Array.from({ length: n }, () => Math.round(rng.uniform(-1000, 1000)) || 0); // no -0 (int32 has none)
      const strides = shape.map((_, i) => shape.slice(i + 1).reduce((a, b) => a * b, 1));
      const outShape = perm.map((p) => shape[p]);
      const want: number[] = [];
      for (let flat = 0; flat < n; flat++) {
        let rest = flat,
          src = 0;
        for (let a = outShape.length - 1; a >= 0; a--) {
          src += (rest % outShape[a]) * strides[perm[a]];
          rest = Math.floor(rest / outShape[a]);
        }
        want.push(x[src]);
      }
      for (const dtype of ["float32", "int32"] as const) {
        const xt = tf.tensor(x, shape, dtype);
        const got = tf.transpose(xt, perm);
        assert.deepEqual(got.shape, outShape);
        assert.deepEqual(Array.from(got.dataSync()), want, `${dtype} ${JSON.stringify({ shape, perm })}`);
        tf.dispose([xt, got]);
      }
    }
});
