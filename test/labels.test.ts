import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { datasetLabelsOf, rawDatasetLabels, splitRightLeft, transferLabels, transferredClasses } from "../src/data/label-transfer.js";
import { readManifest } from "../src/data/manifest.js";
import { templateClasses, templateKeys } from "../src/data/ontology.js";
import { classCounts, classMask, classesIn, hasClass, invalidCode, organOf, postLabel, tumourOf } from "../src/data/post-label.js";
import { loadPhantomTemplate, phantomGrid, randomAnatomy, renderPhantom, siteLooks } from "../src/data/phantom.js";
import { diagonalAffine, type Vec3, type Volume } from "../src/data/volume.js";
import { oneHotTarget } from "../src/model/loss.js";
import { Rng } from "../src/util/rng.js";
import { tempDir } from "./helpers.js";

const SHAPE: Vec3 = [20, 8, 6];
const idx = (x: number, y: number, z: number) => x + SHAPE[0] * (y + SHAPE[1] * z);
const vol = (data: Uint8Array): Volume<Uint8Array> => ({ shape: SHAPE, spacing: [1, 1, 1], affine: diagonalAffine([1, 1, 1]), data });

/** A raw label volume with boxes [x0, x1) x [y0, y1) x [z0, z1) of the given raw values. */
function raw(boxes: [number, [number, number], [number, number], [number, number]][]): Uint8Array {
  const d = new Uint8Array(SHAPE[0] * SHAPE[1] * SHAPE[2]);
  for (const [v, [x0, x1], [y0, y1], [z0, z1]] of boxes)
    for (let z = z0; z < z1; z++) for (let y = y0; y < y1; y++) for (let x = x0; x < x1; x++) d[idx(x, y, z)] = v;
  return d;
}

const prepare = (r: Uint8Array, key: string) => splitRightLeft(vol(transferLabels(r, key, `${key}.nii.gz`)), key).data;

test("post-label codes: every organ/tumour pair round-trips, and channel k is set exactly for its organ or tumour", () => {
  for (let organ = 0; organ <= 25; organ++) {
    for (const tumour of [0, 26, 27, 28, 29, 30, 31, 32]) {
      const c = postLabel(organ, tumour);
      assert.ok(c < 256);
      assert.equal(organOf(c), organ);
      assert.equal(tumourOf(c), tumour);
      for (let k = 1; k <= 32; k++) assert.equal(hasClass(c, k), k === organ || k === tumour, `code ${c} class ${k}`);
    }
  }
  assert.throws(() => postLabel(27), /not an organ id/);
  assert.throws(() => postLabel(6, 6), /not a tumour id/);
  assert.equal(invalidCode(Uint8Array.from([0, 6, 70])), undefined);
  assert.equal(invalidCode(Uint8Array.from([0, 27])), 27); // an old single-label tumour id
  const counts = classCounts(Uint8Array.from([6, 6, postLabel(6, 27), postLabel(0, 27), 0]));
  assert.deepEqual(
    [...counts].sort((a, b) => a[0] - b[0]),
    [
      [6, 3],
      [27, 2],
    ],
  );
});

test("every dataset's transfer yields exactly its template's classes", () => {
  for (const key of templateKeys()) {
    if (key === "totalseg") continue;
    assert.deepEqual(
      transferredClasses(key),
      [...templateClasses(key)].sort((a, b) => a - b),
      key,
    );
  }
});

test("KiTS (05): one kidney label split by side, tumour and cyst inside their kidney", () => {
  // Raw KiTS: 1 kidney, 2 tumour, 3 cyst. Kidney A at low x (the patient's left in RAS), B at high x.
  const r = raw([
    [1, [1, 5], [1, 6], [1, 5]],
    [3, [2, 4], [2, 4], [2, 3]], // cyst inside A
    [1, [12, 19], [1, 7], [1, 5]],
    [2, [17, 19], [1, 3], [1, 3]], // tumour at B's edge
  ]);
  const p = prepare(r, "05");
  assert.ok(hasClass(p[idx(1, 1, 1)], 3) && !hasClass(p[idx(1, 1, 1)], 2), "low x: left kidney (3)");
  assert.ok(hasClass(p[idx(12, 1, 1)], 2), "high x: right kidney (2)");
  const cyst = p[idx(2, 2, 2)];
  assert.ok(hasClass(cyst, 32) && hasClass(cyst, 3), "the cyst is left kidney too");
  const tumour = p[idx(18, 1, 1)];
  assert.ok(hasClass(tumour, 26) && hasClass(tumour, 2), "the tumour is right kidney too");
  assert.deepEqual(classesIn(p), [2, 3, 26, 32]);
  // Channel 2's volume counts the tumour's voxels (multi-hot), the reference's post label.
  assert.equal(
    classMask(p, 2).reduce((a, b) => a + b, 0),
    7 * 6 * 4,
  );
});

test("a split organ in one piece stays right; CT-ORG splits lungs and kidneys, drops bone and brain, rejects unknown values", () => {
  assert.ok(
    prepare(raw([[1, [2, 6], [2, 6], [1, 4]]]), "08").every((c) => c === 0 || c === postLabel(6)),
    "08: raw 1 is liver",
  );
  const one = prepare(raw([[2, [2, 6], [2, 6], [1, 4]]]), "08"); // AbdomenCT-1K: raw 2 kidney, one component
  assert.ok(one.every((c) => c === 0 || c === 2));
  // CT-ORG: 1 liver, 2 bladder, 3 lungs, 4 kidneys, 5 bone, 6 brain.
  const ct = prepare(
    raw([
      [3, [0, 4], [0, 8], [0, 6]],
      [3, [15, 20], [0, 8], [0, 6]],
      [4, [6, 8], [0, 2], [0, 2]],
      [4, [11, 13], [0, 2], [0, 2]],
      [5, [9, 10], [4, 5], [0, 6]],
      [6, [9, 10], [6, 7], [0, 1]],
    ]),
    "12",
  );
  assert.equal(ct[idx(0, 0, 0)], 17);
  assert.equal(ct[idx(19, 0, 0)], 16);
  assert.equal(ct[idx(6, 0, 0)], 3);
  assert.equal(ct[idx(12, 0, 0)], 2);
  assert.equal(ct[idx(9, 4, 0)], 0);
  assert.throws(() => transferLabels(Uint8Array.from([0, 7]), "12", "ctorg_label.nii.gz"), /ctorg_label\.nii\.gz.*label value 7.*"12"/);
  // WORD (07): one adrenal label (raw 12) split into right (12) and left (13).
  const w = prepare(
    raw([
      [12, [1, 3], [1, 3], [1, 3]],
      [12, [15, 17], [1, 3], [1, 3]],
    ]),
    "07",
  );
  assert.deepEqual([w[idx(1, 1, 1)], w[idx(15, 1, 1)]], [13, 12]);
});

test("LiTS / Decathlon liver and pancreas: tumours inside the organ; hepatic vessel tumour is not vessel", () => {
  for (const [key, organ, tumour] of [
    ["04", 6, 27],
    ["10_03", 6, 27],
    ["10_07", 11, 28],
  ] as const) {
    const p = prepare(
      raw([
        [1, [2, 10], [1, 7], [1, 5]],
        [2, [4, 6], [2, 4], [2, 3]],
      ]),
      key,
    );
    assert.equal(p[idx(2, 1, 1)], postLabel(organ), key);
    assert.equal(p[idx(4, 2, 2)], postLabel(organ, tumour), key);
  }
  const hv = prepare(
    raw([
      [1, [2, 10], [1, 7], [1, 5]],
      [2, [4, 6], [2, 4], [2, 3]],
    ]),
    "10_08",
  );
  assert.equal(hv[idx(4, 2, 2)], postLabel(0, 29));
  assert.equal(hv[idx(2, 1, 1)], 15);
});

test("multi-hot targets: a tumour voxel inside its organ is 1 in both channels of the loss target", () => {
  const label = Uint8Array.from([0, 6, postLabel(6, 27), postLabel(0, 27)]);
  const t = oneHotTarget(label, [4, 1, 1], [6, 27]);
  assert.deepEqual(Array.from(t.dataSync()), [0, 0, 1, 0, 1, 1, 0, 1]);
  t.dispose();
});

test("phantoms: the truth survives the dataset's numbering and the label transfer; the right kidney lies at larger x", () => {
  const t = loadPhantomTemplate();
  const looks = siteLooks(3);
  const kits = looks.find((l) => l.template === "05")!;
  const r = renderPhantom(t, kits, randomAnatomy(t, kits, new Rng(7)), phantomGrid(undefined, [6, 6, 6]), new Rng(1));
  const truth = r.classes;
  const meanX = (k: number) => {
    let s = 0,
      n = 0;
    truth.data.forEach((c, i) => hasClass(c, k) && ((s += i % truth.shape[0]), n++));
    return s / n;
  };
  assert.ok(meanX(2) > meanX(3), `right kidney mean x ${meanX(2).toFixed(1)} vs left ${meanX(3).toFixed(1)}`);
  for (const key of ["05", "04", "01", "08", "12", "13"]) {
    const back = splitRightLeft({ ...truth, data: transferLabels(rawDatasetLabels(truth.data, key), key, "phantom") }, key).data;
    const classes = templateClasses(key);
    for (const k of classes) {
      const want = classMask(truth.data, k),
        got = classMask(back, k);
      let diff = 0;
      for (let i = 0; i < want.length; i++) diff += want[i] ^ got[i];
      assert.equal(diff, 0, `${key}: class ${k} differs on ${diff} voxels`);
    }
    // Nothing outside the template survives.
    assert.deepEqual(
      classesIn(back).filter((k) => !classes.includes(k)),
      [],
      key,
    );
  }
  assert.equal(datasetLabelsOf("05").raw.length, 3);
});

test("a manifest prepared by the older single-label kit is refused with a clear message", () => {
  const dir = tempDir();
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, "manifest.json"), JSON.stringify({ format: "massive-prepared-v1", cases: [], failures: [] }));
  assert.throws(() => readManifest(dir), /older kit.*run massive prep again/);
});
