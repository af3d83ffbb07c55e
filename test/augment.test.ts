import { test } from "node:test";
import assert from "node:assert/strict";
import { randomPosNegCrop, rot90Patch, samplePatch, zoomPatch, PAPER_AUGMENT, type Patch } from "../src/data/augment.js";
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
  const p = { shape: [6, 6, 4] as [number, number, number], image: new Float32Array(144).map(() => rng.next()), label: new Uint8Array(144).map(() => rng.int(3)) };
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
