import { connectedComponents26 } from "../src/data/components.js";
import { test } from "node:test";
import assert from "node:assert/strict";
import type { Vec3 } from "../src/data/volume.js";
import { dice } from "../src/eval/dice.js";
import {
  classesNeeded,
  cutVeinBelowPancreas,
  dilateCube,
  erodeCube,
  keepInsideOrgan,
  largestComponent,
  postprocessCase,
  splitLungs,
} from "../src/eval/postprocess.js";

const at = (s: Vec3, x: number, y: number, z: number) => x + s[0] * (y + s[1] * z);

function mask(s: Vec3, voxels: [number, number, number][]): Uint8Array {
  const m = new Uint8Array(s[0] * s[1] * s[2]);
  for (const [x, y, z] of voxels) m[at(s, x, y, z)] = 1;
  return m;
}

/** Every voxel of the box [x0, x1) x [y0, y1) x [z0, z1). */
function box(s: Vec3, [x0, x1]: [number, number], [y0, y1]: [number, number], [z0, z1]: [number, number]): [number, number, number][] {
  const out: [number, number, number][] = [];
  for (let z = z0; z < z1; z++) for (let y = y0; y < y1; y++) for (let x = x0; x < x1; x++) out.push([x, y, z]);
  return out;
}

const count = (m: Uint8Array) => m.reduce((a, v) => a + v, 0);

test("26-connectivity: voxels touching only by a corner or an edge are one component", () => {
  const s: Vec3 = [4, 4, 4];
  assert.equal(
    connectedComponents26(
      mask(s, [
        [0, 0, 0],
        [1, 1, 1],
      ]),
      s,
    ).count,
    1,
  ); // corner
  assert.equal(
    connectedComponents26(
      mask(s, [
        [0, 0, 0],
        [1, 1, 0],
      ]),
      s,
    ).count,
    1,
  ); // edge
  assert.equal(
    connectedComponents26(
      mask(s, [
        [0, 0, 0],
        [2, 0, 0],
      ]),
      s,
    ).count,
    2,
  ); // a gap
  // No wrap-around across the x border (x fastest in memory: (3, 0, 0) and (0, 1, 0) are adjacent in memory).
  assert.equal(
    connectedComponents26(
      mask(s, [
        [3, 0, 0],
        [0, 1, 0],
      ]),
      s,
    ).count,
    2,
  );
  const c = connectedComponents26(
    mask(s, [
      [0, 0, 0],
      [1, 1, 1],
      [3, 3, 3],
    ]),
    s,
  );
  assert.deepEqual(c.sizes.slice(1), [2, 1]);
});

test("largest component: the corner-connected diagonal (3 voxels) beats a 2-voxel bar", () => {
  const s: Vec3 = [6, 6, 6];
  const m = mask(s, [
    [0, 0, 0],
    [1, 1, 1],
    [2, 2, 2],
    [5, 0, 5],
    [5, 1, 5],
  ]);
  const out = largestComponent(m, s);
  assert.deepEqual(
    out,
    mask(s, [
      [0, 0, 0],
      [1, 1, 1],
      [2, 2, 2],
    ]),
  );
  assert.equal(count(largestComponent(new Uint8Array(216), s)), 0);
});

test("cube dilation and erosion (outside counts as 0), by hand", () => {
  const s: Vec3 = [9, 9, 9];
  const d = dilateCube(mask(s, [[4, 4, 4]]), s, 5);
  assert.equal(count(d), 125);
  assert.equal(d[at(s, 2, 6, 2)], 1);
  assert.equal(d[at(s, 1, 4, 4)], 0);
  const cube = mask(s, box(s, [0, 9], [0, 9], [0, 9]));
  assert.equal(count(erodeCube(cube, s, 5)), 5 * 5 * 5); // 2 voxels lost at every border
  assert.equal(count(erodeCube(mask(s, box(s, [2, 7], [2, 7], [2, 7])), s, 5)), 1);
});

test("tumours: outside the organ closed and dilated by a 5x5x5 cube removed, inside kept", () => {
  const s: Vec3 = [20, 12, 12];
  const liver = mask(s, box(s, [2, 8], [3, 9], [3, 9]));
  // Tumour voxels: inside, 2 voxels beyond the organ (kept by the dilation), 3 beyond (removed).
  const tumour = mask(s, [
    [4, 5, 5],
    [9, 5, 5],
    [10, 5, 5],
    [16, 5, 5],
  ]);
  const kept = keepInsideOrgan(tumour, liver, s);
  assert.deepEqual(
    kept,
    mask(s, [
      [4, 5, 5],
      [9, 5, 5],
    ]),
  );
  // Through postprocessCase: Liver Tumor (27, the reference's class ids) filtered by the largest component
  // of the raw liver (6).
  const stray = liver.slice();
  stray[at(s, 15, 5, 5)] = 1; // a stray liver voxel right next to the far tumour voxel does not rescue it
  const post = postprocessCase(
    new Map([
      [6, stray],
      [27, tumour],
    ]),
    [6, 27],
    s,
  );
  assert.deepEqual(post.get(27), kept);
  assert.deepEqual(post.get(6), liver); // the stray voxel is not the largest component
  // Not by another organ: with only a pancreas (or a kidney) predicted, every liver-tumour voxel goes.
  assert.equal(
    count(
      postprocessCase(
        new Map([
          [11, liver],
          [27, tumour],
        ]),
        [11, 27],
        s,
      ).get(27)!,
    ),
    0,
  );
  assert.equal(
    count(
      postprocessCase(
        new Map([
          [2, liver],
          [27, tumour],
        ]),
        [2, 27],
        s,
      ).get(27)!,
    ),
    0,
  );
});

test("kidney tumours (26) are kept inside either kidney: the two largest components of both kidneys' predictions", () => {
  const s: Vec3 = [30, 12, 12];
  const right = mask(s, box(s, [2, 7], [3, 9], [3, 9]));
  const left = mask(s, box(s, [20, 26], [3, 9], [3, 9]));
  // A third, smaller kidney blob: not among the two largest components, so it bounds nothing.
  const blob = mask(s, box(s, [13, 15], [3, 5], [3, 5]));
  const leftAndBlob = left.map((v, i) => v | blob[i]);
  // Tumour voxels: inside the right kidney, inside the left one, on the blob, and far from all.
  const tumour = mask(s, [
    [4, 5, 5],
    [22, 5, 5],
    [14, 4, 4],
    [14, 10, 10],
  ]);
  const post = postprocessCase(
    new Map([
      [2, right],
      [3, leftAndBlob],
      [26, tumour],
    ]),
    [2, 3, 26, 32],
    s,
  );
  assert.deepEqual(
    post.get(26),
    mask(s, [
      [4, 5, 5],
      [22, 5, 5],
    ]),
  );
  // A liver does not bound a kidney tumour.
  assert.equal(
    count(
      postprocessCase(
        new Map([
          [6, right],
          [26, tumour],
        ]),
        [6, 26],
        s,
      ).get(26)!,
    ),
    0,
  );
  // The evaluation predicts what the filters need.
  assert.deepEqual(classesNeeded([26], [2, 3, 26, 32]), [2, 3, 26]);
  assert.deepEqual(classesNeeded([27], [6, 27]), [6, 27]);
});

test("portal/splenic vein: voxels below the pancreas's lowest slice are cut", () => {
  const s: Vec3 = [4, 4, 8];
  const pancreas = mask(s, box(s, [0, 2], [0, 2], [3, 5]));
  const vein = mask(s, box(s, [2, 3], [2, 3], [0, 8]));
  const cut = cutVeinBelowPancreas(vein, pancreas, s);
  assert.deepEqual(cut, mask(s, box(s, [2, 3], [2, 3], [3, 8])));
  // organ_post_process: with 10 and 11 in the template the vein is cut against the post-processed pancreas
  // (its largest component: a lower stray pancreas voxel does not move the cut).
  const noisy = pancreas.slice();
  noisy[at(s, 3, 3, 0)] = 1;
  const post = postprocessCase(
    new Map([
      [10, vein],
      [11, noisy],
    ]),
    [10, 11],
    s,
  );
  assert.deepEqual(post.get(11), pancreas);
  assert.deepEqual(post.get(10), cut);
  // Without the pancreas in the template the vein stays as predicted.
  assert.deepEqual(postprocessCase(new Map([[10, vein]]), [10], s).get(10), vein);
  assert.deepEqual(classesNeeded([10], [10, 11]), [10, 11]);
  assert.deepEqual(classesNeeded([26, 27], [6, 11, 26, 27]), [2, 3, 6, 26, 27]);
});

test("lungs: the two largest components of both predictions; smaller mean x is the left lung (17)", () => {
  const s: Vec3 = [12, 6, 6];
  const lowX = box(s, [0, 4], [1, 5], [1, 5]); // 64 voxels
  const highX = box(s, [7, 11], [1, 4], [1, 5]); // 48 voxels
  // The network mixes them up: the right-lung channel holds part of the low-x lung and vice versa.
  const right = mask(s, [...lowX.slice(0, 30), ...highX.slice(10)]);
  const left = mask(s, [...lowX.slice(30), ...highX.slice(0, 10), [11, 5, 5]]); // + a stray voxel
  const r = splitLungs(right, left, s);
  assert.deepEqual(r.left, mask(s, lowX));
  assert.deepEqual(r.right, mask(s, highX));
  const post = postprocessCase(
    new Map([
      [16, right],
      [17, left],
    ]),
    [16, 17],
    s,
  );
  assert.deepEqual(post.get(16), mask(s, highX));
  assert.deepEqual(post.get(17), mask(s, lowX));
  // One component only: both empty (the reference's IndexError path).
  const one = splitLungs(mask(s, lowX), new Uint8Array(s[0] * s[1] * s[2]), s);
  assert.equal(count(one.left) + count(one.right), 0);
  // One lung over 4x the other and lying in the high-x half: all of it is the right lung.
  const big = box(s, [6, 12], [0, 6], [0, 6]);
  const tiny = mask(s, [[0, 0, 0]]);
  const only = splitLungs(mask(s, big), tiny, s);
  assert.deepEqual(only.right, mask(s, big));
  assert.equal(count(only.left), 0);
});

test("other classes as predicted; only template classes come out", () => {
  const s: Vec3 = [6, 6, 6];
  const two = mask(s, [
    [0, 0, 0],
    [4, 4, 4],
  ]);
  const post = postprocessCase(
    new Map([
      [15, two],
      [28, two],
      [1, two],
    ]),
    [1, 15, 28],
    s,
  );
  assert.deepEqual(post.get(15), two); // hepatic vessel: no component filter
  assert.deepEqual(post.get(28), two);
  assert.equal(count(post.get(1)!), 1); // spleen: the largest component (tie: the first)
  assert.equal(postprocessCase(new Map([[1, two]]), [2], s).has(1), false);
});

test("Dice with the reference's +1 in the denominator", () => {
  assert.equal(dice([1, 1, 0, 0], [1, 0, 1, 0]), 2 / 5);
  assert.equal(dice([1, 1], [1, 1]), 4 / 5);
  assert.equal(dice([0, 0], [1, 1]), 0);
  assert.equal(dice([0, 0], [0, 0]), 0);
});

test("evaluateCase post-processes before scoring (default) and scores the raw output with postprocess: false", async () => {
  const tf = await import("@tensorflow/tfjs");
  const { evaluateCase } = await import("../src/eval/evaluate.js");
  type Model = Parameters<typeof evaluateCase>[0];
  type Case = Parameters<typeof evaluateCase>[1];
  const s: Vec3 = [16, 16, 8];
  const n = s[0] * s[1] * s[2];
  // A fake model: every class's logit is +10 where the image is bright, -10 elsewhere.
  const model = {
    predict: (x: import("@tensorflow/tfjs").Tensor5D, classes: readonly number[]) => ({
      logits: tf.tidy(() => tf.tile(tf.sub(tf.mul(x, 20), 10), [1, 1, 1, 1, classes.length])),
    }),
  } as unknown as Model;
  const image = new Float32Array(n);
  const label = new Uint8Array(n);
  for (const [x, y, z] of box(s, [2, 8], [2, 8], [2, 6])) {
    image[at(s, x, y, z)] = 1;
    label[at(s, x, y, z)] = 1; // spleen (1)
  }
  for (const [x, y, z] of box(s, [12, 15], [12, 15], [2, 5])) image[at(s, x, y, z)] = 1; // a false positive blob
  const vol = <T extends Float32Array | Uint8Array>(data: T) => ({
    shape: s,
    spacing: [1, 1, 1] as Vec3,
    affine: [1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1],
    data,
  });
  const c = { idx: 0, id: "c", site: "D1", template: "01", organs: [1], weights: [1], image: vol(image), label: vol(label) } as unknown as Case;
  const inter = 6 * 6 * 4;
  const post = await evaluateCase(model, c, [16, 16, 8]);
  assert.ok(Math.abs(post.dice[1] - (2 * inter) / (inter + inter + 1)) < 1e-12, `post ${post.dice[1]}`);
  const raw = await evaluateCase(model, c, [16, 16, 8], { postprocess: false });
  assert.ok(Math.abs(raw.dice[1] - (2 * inter) / (inter + 27 + inter + 1)) < 1e-12, `raw ${raw.dice[1]}`);
});
