import { test } from "node:test";
import assert from "node:assert/strict";
import { copyFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { runPrep } from "../src/data/prep/prep.js";
import { readManifest } from "../src/data/manifest.js";
import { readLabelNifti, readNifti } from "../src/data/nifti.js";
import { realCtPaths, tempDir } from "./helpers.js";

const quiet = () => {};

test("prep on the real CT: TotalSegmentator labels mapped, resumable, bad cases skipped and reported", () => {
  const { dir } = realCtPaths();
  const root = tempDir();
  copyFileSync(join(dir, "example_ct_sm.nii.gz"), join(root, "ct.nii.gz"));
  copyFileSync(join(dir, "example_seg.nii.gz"), join(root, "seg.nii.gz"));
  writeFileSync(join(root, "broken.nii.gz"), Buffer.from("definitely not a nifti file"));
  const list = join(root, "cases_train.txt");
  writeFileSync(list, "ct.nii.gz\tseg.nii.gz\nbroken.nii.gz\tseg.nii.gz\n");
  const out = tempDir();
  const logs: string[] = [];
  const s1 = runPrep({ list, root, out, spacing: [6, 6, 6], labelMapping: "totalseg", log: (l) => logs.push(l) });
  assert.equal(s1.prepared, 1);
  assert.equal(s1.failed.length, 1);
  assert.match(s1.failed[0].error, /broken\.nii\.gz: .*bad magic|broken\.nii\.gz: .*truncated/);
  assert.ok(logs.some((l) => l.includes("1 failed")));
  const m = readManifest(out);
  assert.equal(m.cases.length, 1);
  assert.equal(m.failures.length, 1);
  const c = m.cases[0];
  assert.equal(c.split, "train");
  assert.equal(c.template, "totalseg");
  assert.ok(c.classesPresent.includes(6), "liver");
  const img = readNifti(join(out, c.image));
  const lab = readLabelNifti(join(out, c.label));
  assert.deepEqual(img.shape, lab.shape);
  assert.deepEqual(img.shape, c.shape);
  img.spacing.forEach((v) => assert.ok(Math.abs(v - 6) < 1e-4));
  for (const v of img.data) assert.ok(v >= 0 && v <= 1);
  // Rerun: the prepared case is skipped, the broken one is tried (and fails) again.
  const s2 = runPrep({ list, root, out, spacing: [6, 6, 6], labelMapping: "totalseg", log: quiet });
  assert.equal(s2.skipped, 1);
  assert.equal(s2.prepared, 0);
  assert.equal(readManifest(out).cases.length, 1);
  // Another spacing into the same folder is refused rather than mixing grids.
  assert.throws(() => runPrep({ list, root, out, spacing: [3, 3, 3], labelMapping: "totalseg", log: quiet }), /prepared at spacing 6,6,6/);
});

test("prep needs a template for paths outside PAOT folders", () => {
  const { dir } = realCtPaths();
  const list = join(tempDir(), "x.txt");
  writeFileSync(list, "example_ct_sm.nii.gz\texample_seg.nii.gz\n");
  const s = runPrep({ list, root: dir, out: tempDir(), spacing: [6, 6, 6], labelMapping: "template", log: quiet });
  assert.equal(s.failed.length, 1);
  assert.match(s.failed[0].error, /cannot tell the label template .* pass --dataset-key/);
});
