import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { runPhantomSet } from "../src/data/prep/phantom-set.js";
import { runPrep } from "../src/data/prep/prep.js";
import { datasetLabelsOf } from "../src/data/label-transfer.js";
import { readListFile } from "../src/data/listfile.js";
import { readManifest } from "../src/data/manifest.js";
import { readLabelNifti, readNifti } from "../src/data/nifti.js";
import { SITES, templateClasses, templateKeyFromPath } from "../src/data/ontology.js";
import { loadPhantomTemplate, phantomGrid, randomAnatomy, renderPhantom, siteLooks } from "../src/data/phantom.js";
import { templateViolations } from "../src/data/preprocess.js";
import { PROFILES } from "../src/profiles.js";
import { Rng } from "../src/util/rng.js";
import { tempDir } from "./helpers.js";

const SMOKE = PROFILES.smoke.phantom!;
const FEW = { ...SMOKE, minTrainPerSite: 2, minTestPerSite: 1, singleSiteTrain: 1, singleSiteTest: 1 };
const quiet = () => {};

test("same seed writes byte-identical files; another seed does not", () => {
  const a = tempDir(),
    b = tempDir(),
    c = tempDir();
  const sites = ["D1", "D5", "D12"];
  runPhantomSet({ out: a, seed: 4, profile: FEW, sites, log: quiet });
  runPhantomSet({ out: b, seed: 4, profile: FEW, sites, log: quiet });
  runPhantomSet({ out: c, seed: 5, profile: FEW, sites, log: quiet });
  const list = readListFile(join(a, "stream_train.txt"));
  assert.equal(list.length, 6);
  let differs = 0;
  for (const e of list) {
    for (const f of [e.image, e.label]) assert.ok(readFileSync(join(a, f)).equals(readFileSync(join(b, f))), `${f} identical`);
    if (!readFileSync(join(a, e.image)).equals(readFileSync(join(c, e.image)))) differs++;
  }
  assert.equal(differs, list.length);
});

test("sites differ measurably: mean liver HU spans more than 40 HU across the 16 sites", () => {
  const t = loadPhantomTemplate();
  const looks = siteLooks(1);
  const grid = phantomGrid(undefined, [7.5, 7.5, 7.5]);
  const means = looks.map((look, i) => {
    const r = renderPhantom(t, look, randomAnatomy(t, look, new Rng(100 + i)), grid, new Rng(i));
    let s = 0,
      n = 0;
    r.classes.data.forEach((c, k) => {
      if (c === 6) {
        s += r.image.data[k];
        n++;
      }
    });
    assert.ok(n > 100, `${look.siteId} renders a liver`);
    return s / n;
  });
  const spread = Math.max(...means) - Math.min(...means);
  assert.ok(spread > 40, `liver means ${means.map((m) => m.toFixed(0)).join(", ")}`);
  // CT-like values: liver soft tissue, not boxes of arbitrary numbers.
  for (const m of means) assert.ok(m > -20 && m < 200, `liver mean ${m}`);
});

test("rendered anatomy has CT values: fat near -100, lung near -800, bone above 300", () => {
  const t = loadPhantomTemplate();
  const look = { ...siteLooks(1)[0], huGain: 1, huOffset: 0, noiseSd: 0, blurMm: [0, 0, 0] as [number, number, number] };
  const r = renderPhantom(t, look, randomAnatomy(t, look, new Rng(1)), phantomGrid(undefined, [3, 3, 3]), new Rng(1));
  const lung: number[] = [];
  r.classes.data.forEach((c, k) => (c === 16 || c === 17) && lung.push(r.image.data[k]));
  const med = (xs: number[]) => xs.sort((p, q) => p - q)[Math.floor(xs.length / 2)];
  assert.ok(lung.length > 50 && Math.abs(med(lung) + 820) < 80, `lung median ${med(lung)}`);
  const hist = { fat: 0, bone: 0 };
  for (const v of r.image.data) {
    if (v > -150 && v < -50) hist.fat++;
    if (v > 300) hist.bone++;
  }
  assert.ok(hist.fat > 2000, `fat voxels ${hist.fat}`);
  assert.ok(hist.bone > 300, `bone voxels ${hist.bone}`);
});

test("a site's label files hold only its template's labels, and prep maps them to its classes", () => {
  const out = tempDir();
  const prepared = tempDir();
  runPhantomSet({ out, seed: 2, profile: FEW, log: quiet });
  for (const e of readListFile(join(out, "stream_train.txt"))) {
    const key = templateKeyFromPath(e.image)!;
    const lab = readLabelNifti(join(out, e.label));
    assert.ok(lab.maxValue <= datasetLabelsOf(key).raw.length, `${e.label}: max ${lab.maxValue}`);
  }
  const s = runPrep({ list: join(out, "stream_train.txt"), root: out, out: prepared, spacing: [7.5, 7.5, 7.5], labelMapping: "template", log: quiet });
  assert.equal(s.failed.length, 0);
  const m = readManifest(prepared);
  assert.equal(m.cases.length, 32);
  assert.deepEqual(
    [...new Set(m.cases.map((c) => c.site))],
    SITES.map((x) => x.id),
  );
  for (const c of m.cases) {
    const lab = readLabelNifti(join(prepared, c.label));
    assert.deepEqual(templateViolations(lab.data, c.template), [], `${c.id}`);
    for (const k of c.classesPresent) assert.ok(templateClasses(c.template).includes(k));
  }
  // Tumour sites carry tumours: KiTS (D5) annotates kidney tumours/cysts, LiTS (D4) liver tumours.
  const tumours = (site: string) =>
    m.cases
      .filter((c) => c.site === site)
      .flatMap((c) => c.classesPresent)
      .filter((k) => k >= 26);
  assert.ok(tumours("D4").length + tumours("D5").length + tumours("D9").length > 0);
  // LPS-stored sites come out RAS.
  const img = readNifti(join(prepared, m.cases[2].image));
  assert.ok(img.affine[0] > 0 && img.affine[5] > 0 && img.affine[10] > 0);
});

test("near-duplicate cases exist where the site is redundant, and look alike without being identical", () => {
  const out = tempDir();
  runPhantomSet({ out, seed: 3, profile: { ...FEW, minTrainPerSite: 6 }, sites: ["D7"], singleSite: false, log: quiet });
  const facts = JSON.parse(readFileSync(join(out, "phantom.json"), "utf8")) as { cases: { image: string; duplicateOf: string | null }[] };
  const dup = facts.cases.find((c) => c.duplicateOf);
  assert.ok(dup, "D7 has near-duplicates");
  const a = readNifti(join(out, dup!.image)).data;
  const b = readNifti(join(out, dup!.image.replace(/case\d+/, dup!.duplicateOf!))).data;
  const other = facts.cases.find((c) => !c.duplicateOf && c.image !== dup!.image.replace(/case\d+/, dup!.duplicateOf!))!;
  const o = readNifti(join(out, other.image)).data;
  const mad = (x: Float32Array, y: Float32Array) => x.reduce((s, v, i) => s + Math.abs(v - y[i]), 0) / x.length;
  assert.ok(mad(a, b) > 0, "not identical");
  assert.ok(mad(a, b) < 0.6 * mad(a, o), `duplicate distance ${mad(a, b).toFixed(1)} vs other ${mad(a, o).toFixed(1)}`);
});
