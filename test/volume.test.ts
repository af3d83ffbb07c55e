import { test } from "node:test";
import assert from "node:assert/strict";
import {
  applyAffine,
  axisCodes,
  cropBox,
  diagonalAffine,
  flipAxes,
  foregroundBox,
  padToAtLeast,
  reorientToRAS,
  resample,
  windowHU,
  type Vec3,
  type Volume,
} from "../src/data/volume.js";
import { Rng } from "../src/util/rng.js";

/** f(world) = 2x - 3y + 0.5z + 7, sampled on a grid: trilinear resampling must reproduce it exactly. */
function linearField(shape: Vec3, spacing: Vec3, origin: Vec3): Volume {
  const affine = diagonalAffine(spacing, origin);
  const data = new Float32Array(shape[0] * shape[1] * shape[2]);
  let i = 0;
  for (let z = 0; z < shape[2]; z++)
    for (let y = 0; y < shape[1]; y++)
      for (let x = 0; x < shape[0]; x++) {
        const [wx, wy, wz] = applyAffine(affine, [x, y, z]);
        data[i++] = 2 * wx - 3 * wy + 0.5 * wz + 7;
      }
  return { shape, spacing, affine, data };
}

test("trilinear resampling reproduces a linear field at the new voxel positions", () => {
  const vol = linearField([20, 16, 12], [1, 1.5, 2.5], [-10, 4, 30]);
  const out = resample(vol, [1.7, 0.9, 3.1], "linear");
  assert.deepEqual(out.shape, [12, 27, 10]);
  let checked = 0;
  let i = 0;
  for (let z = 0; z < out.shape[2]; z++)
    for (let y = 0; y < out.shape[1]; y++)
      for (let x = 0; x < out.shape[0]; x++, i++) {
        const w = applyAffine(out.affine, [x, y, z]);
        // Only positions inside the input grid (outside, edges repeat by design).
        const inside = [0, 1, 2].every((a) => (w[a] - vol.affine[a * 4 + 3]) / vol.spacing[a] <= vol.shape[a] - 1 + 1e-9);
        if (!inside) continue;
        const expected = 2 * w[0] - 3 * w[1] + 0.5 * w[2] + 7;
        assert.ok(Math.abs(out.data[i] - expected) < 1e-3, `(${x},${y},${z}): ${out.data[i]} vs ${expected}`);
        checked++;
      }
  assert.ok(checked > 1500, `checked ${checked} voxels`);
});

test("nearest resampling of labels keeps label values and halves counts when spacing doubles", () => {
  const lab: Volume<Uint8Array> = { shape: [8, 8, 8], spacing: [1, 1, 1], affine: diagonalAffine([1, 1, 1]), data: new Uint8Array(512) };
  for (let z = 0; z < 8; z++) for (let y = 0; y < 8; y++) for (let x = 0; x < 8; x++) lab.data[x + 8 * (y + 8 * z)] = x < 4 ? 3 : 7;
  const out = resample(lab, [2, 2, 2], "nearest");
  assert.deepEqual(out.shape, [4, 4, 4]);
  assert.deepEqual([...new Set(out.data)].sort(), [3, 7]);
  assert.equal(out.data.filter((v) => v === 3).length, 32);
});

test("reorientToRAS undoes an LPS flip and a permutation, keeping world positions", () => {
  const rng = new Rng(3);
  const vol: Volume = { shape: [5, 4, 3], spacing: [1, 2, 3], affine: diagonalAffine([1, 2, 3], [5, -6, 7]), data: new Float32Array(60).map(() => rng.next()) };
  const lps = flipAxes(vol, [true, true, false]);
  assert.equal(axisCodes(lps.affine), "LPS");
  const back = reorientToRAS(lps);
  assert.equal(axisCodes(back.affine), "RAS");
  assert.deepEqual([...back.data], [...vol.data]);
  back.affine.forEach((v, i) => assert.ok(Math.abs(v - vol.affine[i]) < 1e-9));
  // A permuted volume (voxel axes z, x, y): world position of each value is kept.
  const perm: Volume = {
    shape: [3, 5, 4],
    spacing: [3, 1, 2],
    affine: [0, 1, 0, 5, 0, 0, 2, -6, 3, 0, 0, 7, 0, 0, 0, 1],
    data: new Float32Array(60),
  };
  for (let k = 0; k < 4; k++) for (let j = 0; j < 5; j++) for (let i = 0; i < 3; i++) perm.data[i + 3 * (j + 5 * k)] = vol.data[j + 5 * (k + 4 * i)];
  assert.equal(axisCodes(perm.affine), "SRA");
  const ras = reorientToRAS(perm);
  assert.deepEqual(ras.shape, [5, 4, 3]);
  assert.deepEqual([...ras.data], [...vol.data]);
});

test("window, crop to foreground and pad keep geometry", () => {
  const vol: Volume = { shape: [6, 6, 6], spacing: [2, 2, 2], affine: diagonalAffine([2, 2, 2], [1, 2, 3]), data: new Float32Array(216).fill(-1000) };
  vol.data[2 + 6 * (3 + 6 * 4)] = 100;
  vol.data[4 + 6 * (3 + 6 * 1)] = 300;
  const w = windowHU(vol, -175, 250);
  assert.equal(w.data[0], 0);
  assert.ok(Math.abs(w.data[2 + 6 * (3 + 6 * 4)] - 275 / 425) < 1e-6);
  assert.equal(w.data[4 + 6 * (3 + 6 * 1)], 1);
  const box = foregroundBox(w, (v) => v > 0);
  assert.deepEqual(box, { start: [2, 3, 1], end: [5, 4, 5] });
  const c = cropBox(w, box);
  assert.deepEqual(c.shape, [3, 1, 4]);
  assert.deepEqual(applyAffine(c.affine, [0, 0, 0]), applyAffine(w.affine, [2, 3, 1]));
  const p = padToAtLeast(c, [4, 4, 4]);
  assert.deepEqual(p.shape, [4, 4, 4]);
  // The same world point holds the same value after padding.
  const world = applyAffine(w.affine, [4, 3, 1]);
  const inv = [0, 1, 2].map((a) => Math.round((world[a] - p.affine[a * 4 + 3]) / 2));
  assert.equal(p.data[inv[0] + 4 * (inv[1] + 4 * inv[2])], 1);
});
