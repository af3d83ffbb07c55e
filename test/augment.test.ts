import { test } from "node:test";
import { postLabel } from "../src/data/post-label.js";
import assert from "node:assert/strict";
import { randomClassBalancedCrop, randomPosNegCrop, rot90Patch, samplePatch, zoomPatch, PAPER_AUGMENT, type Patch } from "../src/data/augment.js";
import { diagonalAffine, type Volume } from "../src/data/volume.js";
import { Rng } from "../src/util/rng.js";

function caseVolumes() {
  const shape: [number, number, number] = [40, 40, 20];
  const image: Volume = { shape, spacing: [1, 1, 1], affine: diagonalAffine([1, 1, 1]), data: new Float32Array(32000).fill(0.5) };
  const label: Volume<Uint8Array> = { shape, spacing: [1, 1, 1], affine: diagonalAffine([1, 1, 1]), data: new Uint8Array(32000) };
  // A small labelled organ in one corner: positive crops must find it.
  for (let z = 2; z < 5; z++) for (let y = 2; y < 5; y++) for (let x = 2; x < 5; x++) label.data[x + 40 * (y + 40 * z)] = 6;
  return { image, label };
}

test("pos/neg crops hit labelled voxels about 2 times in 3 (plus chance)", () => {
  const { image, label } = caseVolumes();
  const rng = new Rng(11);
  let withLabel = 0;
  const n = 600;
  for (let i = 0; i < n; i++) {
    const p = randomPosNegCrop(image, label, [8, 8, 8], rng);
    assert.deepEqual(p.shape, [8, 8, 8]);
    if (p.label.some((v) => v > 0)) withLabel++;
  }
  // Positive draws (2/3) always contain the organ; negative draws rarely land on that corner.
  const frac = withLabel / n;
  assert.ok(frac > 0.62 && frac < 0.75, `fraction with label ${frac}`);
});

test("rot90 four times is the identity; zoom keeps the patch size and label set", () => {
  const rng = new Rng(5);
  const p = {
    shape: [6, 6, 4] as [number, number, number],
    image: new Float32Array(144).map(() => rng.next()),
    label: new Uint8Array(144).map(() => rng.int(3)),
  };
  let r: Patch = p;
  for (let k = 0; k < 4; k++) r = rot90Patch(r, 1);
  assert.deepEqual([...r.image], [...p.image]);
  const once = rot90Patch(p, 1);
  assert.notDeepEqual([...once.image], [...p.image]);
  const z = zoomPatch(p, 1.4);
  assert.deepEqual(z.shape, p.shape);
  for (const v of z.label) assert.ok(v <= 2);
});

test("samplePatch is deterministic for a seed", () => {
  const { image, label } = caseVolumes();
  const a = samplePatch(image, label, [8, 8, 8], new Rng(9), PAPER_AUGMENT);
  const b = samplePatch(image, label, [8, 8, 8], new Rng(9), PAPER_AUGMENT);
  assert.deepEqual([...a.image], [...b.image]);
  assert.deepEqual([...a.label], [...b.label]);
});

/** A case whose image is its label map (value k where the label is k) in 3-voxel blocks, so misalignment shows. */
function labelledBlocks(shape: [number, number, number]) {
  const n = shape[0] * shape[1] * shape[2];
  const label: Volume<Uint8Array> = { shape, spacing: [1, 1, 1], affine: diagonalAffine([1, 1, 1]), data: new Uint8Array(n) };
  for (let z = 0; z < shape[2]; z++)
    for (let y = 0; y < shape[1]; y++)
      for (let x = 0; x < shape[0]; x++)
        label.data[x + shape[0] * (y + shape[1] * z)] = 1 + ((Math.floor(x / 3) + 2 * Math.floor(y / 3) + 3 * Math.floor(z / 3)) % 7);
  const image: Volume = { shape, spacing: [1, 1, 1], affine: diagonalAffine([1, 1, 1]), data: Float32Array.from(label.data) };
  return { image, label };
}

test("crop and rot90 keep image and label aligned voxel for voxel; zoom keeps their centroids together", () => {
  const { image, label } = labelledBlocks([24, 24, 12]);
  const rng = new Rng(4);
  for (let i = 0; i < 40; i++) {
    const p = randomPosNegCrop(image, label, [12, 12, 6], rng);
    for (let v = 0; v < p.label.length; v++) assert.equal(p.image[v], p.label[v], `crop ${i} voxel ${v}`);
    for (const k of [1, 2, 3]) {
      const r = rot90Patch(p, k);
      for (let v = 0; v < r.label.length; v++) assert.equal(r.image[v], r.label[v], `rot90 k=${k} voxel ${v}`);
    }
  }
  // Zoom: trilinear image, nearest label. One bright cube (image 1 where the label is 1): the label's
  // centroid and the image's intensity-weighted centroid must coincide (a one-voxel label shift moves
  // the label's centroid by 1 voxel and fails).
  const shape: [number, number, number] = [12, 12, 8];
  const cube = { shape, image: new Float32Array(12 * 12 * 8), label: new Uint8Array(12 * 12 * 8) };
  for (let z = 2; z < 6; z++)
    for (let y = 3; y < 8; y++)
      for (let x = 4; x < 9; x++) {
        cube.image[x + 12 * (y + 12 * z)] = 1;
        cube.label[x + 12 * (y + 12 * z)] = 1;
      }
  for (const f of [1.3, 1.4, 1.5]) {
    const z = zoomPatch(cube, f);
    const c = [0, 0, 0, 0, 0, 0, 0, 0];
    for (let zz = 0; zz < 8; zz++)
      for (let y = 0; y < 12; y++)
        for (let x = 0; x < 12; x++) {
          const v = x + 12 * (y + 12 * zz),
            w = z.image[v],
            l = z.label[v];
          c[0] += w * x;
          c[1] += w * y;
          c[2] += w * zz;
          c[3] += w;
          c[4] += l * x;
          c[5] += l * y;
          c[6] += l * zz;
          c[7] += l;
        }
    for (let a = 0; a < 3; a++)
      assert.ok(Math.abs(c[a] / c[3] - c[4 + a] / c[7]) < 0.3, `zoom ${f}: axis ${a} image centroid ${c[a] / c[3]} vs label ${c[4 + a] / c[7]}`);
  }
});

test("per-site augmentation as the reference: zoom only for the Decathlon templates; class-balanced crops favour tumours 5 : 1 : 1", () => {
  const { image, label } = caseVolumes();
  // A zoomed patch of this smooth case differs from the unzoomed crop drawn from the same generator state.
  const zoomed = (template: string) => {
    let n = 0;
    for (let s = 0; s < 60; s++) {
      const a = samplePatch(image, label, [8, 8, 8], new Rng(s), { ...PAPER_AUGMENT, zoomProb: 1, rot90Prob: 0, shiftProb: 0 }, template);
      const b = samplePatch(image, label, [8, 8, 8], new Rng(s), { ...PAPER_AUGMENT, zoomProb: 0, rot90Prob: 0, shiftProb: 0 }, template);
      if (a.label.some((v, i) => v !== b.label[i])) n++;
    }
    return n;
  };
  assert.equal(zoomed("01"), 0);
  assert.equal(zoomed("15"), 0);
  assert.ok(zoomed("10_03") > 0);
  // Class-balanced crops: a case with a tumour (28, pancreas tumour; post-label code TUMOUR) far from its organ (11).
  const TUMOUR = postLabel(0, 28);
  const shape: [number, number, number] = [48, 16, 16];
  const lab: Volume<Uint8Array> = { shape, spacing: [1, 1, 1], affine: diagonalAffine([1, 1, 1]), data: new Uint8Array(48 * 256) };
  const img: Volume = { shape, spacing: [1, 1, 1], affine: diagonalAffine([1, 1, 1]), data: new Float32Array(48 * 256).fill(0.5) };
  for (let z = 6; z < 10; z++) for (let y = 6; y < 10; y++) for (let x = 2; x < 6; x++) lab.data[x + 48 * (y + 16 * z)] = 11;
  for (let z = 6; z < 10; z++) for (let y = 6; y < 10; y++) for (let x = 42; x < 46; x++) lab.data[x + 48 * (y + 16 * z)] = TUMOUR;
  const rng = new Rng(2);
  const count = { tumour: 0, organ: 0, n: 700 };
  for (let i = 0; i < count.n; i++) {
    const p = randomClassBalancedCrop(img, lab, [8, 8, 8], rng);
    if (p.label.includes(TUMOUR)) count.tumour++;
    if (p.label.includes(11)) count.organ++;
  }
  // Expected 5/7 tumour-centred, 1/7 organ-centred (+ background crops that land on either, rarely).
  assert.ok(Math.abs(count.tumour / count.n - 5 / 7) < 0.07, `tumour crops ${count.tumour / count.n}`);
  assert.ok(count.organ / count.n > 0.08 && count.organ / count.n < 0.25, `organ crops ${count.organ / count.n}`);
  // The pos/neg sites never use it: a template 01 case samples pos/neg (2 : 1 labelled : body).
  const posneg = Array.from({ length: 300 }, (_, s) =>
    samplePatch(img, lab, [8, 8, 8], new Rng(100 + s), { ...PAPER_AUGMENT, zoomProb: 0, rot90Prob: 0, shiftProb: 0 }, "01"),
  );
  const tumourShare = posneg.filter((p) => p.label.includes(TUMOUR)).length / posneg.length;
  assert.ok(tumourShare < 0.5, `pos/neg crops hit the tumour ${tumourShare}`);
});

test("RandZoom acts on the whole volume before the crop (the reference's order); sites without zoom keep the crop's draws first", () => {
  const { image, label } = caseVolumes();
  // A ramp image, so that a zoom shows in every voxel.
  image.data.forEach((_, i) => (image.data[i] = (i % 40) / 40));
  const cfg = { ...PAPER_AUGMENT, zoomProb: 1, zoomMin: 1.5, zoomMax: 1.5, rot90Prob: 0, shiftProb: 0 };
  for (let s = 0; s < 20; s++) {
    // Zoom site: the coin and the factor, then a crop of the zoomed volume.
    const rng = new Rng(s);
    rng.next();
    rng.uniform(1.5, 1.5);
    const z = zoomPatch({ shape: image.shape, image: image.data, label: label.data }, 1.5);
    const want = randomPosNegCrop({ ...image, data: z.image }, { ...label, data: z.label }, [8, 8, 8], rng, cfg);
    const got = samplePatch(image, label, [8, 8, 8], new Rng(s), cfg, "10_09");
    assert.deepEqual(got.image, want.image, `seed ${s}: the patch is a crop of the zoomed volume`);
    assert.deepEqual(got.label, want.label);
    // Not a zoom of the crop: the patch-level zoom gives other voxels.
    const patchZoom = zoomPatch(randomPosNegCrop(image, label, [8, 8, 8], new Rng(s), cfg), 1.5);
    assert.notDeepEqual(got.image, patchZoom.image);
    // Site without zoom: the crop draws first, from the generator's initial state.
    assert.deepEqual(samplePatch(image, label, [8, 8, 8], new Rng(s), cfg, "15").image, randomPosNegCrop(image, label, [8, 8, 8], new Rng(s), cfg).image);
  }
});
