/**
 * `massive phantom`: write a synthetic PAOT-like stream as real NIfTI files in PAOT's folder layout,
 * with list files that `massive prep` ingests unchanged:
 *   stream_train.txt, stream_test.txt          the 16 sites, in the paper's order
 *   single-site_train.txt, single-site_test.txt the single-site set of Table 1
 *   phantom.json                                site looks, grid and per-case facts
 */
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { formatListFile } from "../listfile.js";
import { rawDatasetLabels } from "../label-transfer.js";
import { writeNifti } from "../nifti.js";
import { SITES } from "../ontology.js";
import { asStored, loadPhantomTemplate, phantomGrid, randomAnatomy, renderPhantom, singleSiteLook, siteLooks, type SiteLook } from "../phantom.js";
import type { PhantomProfile } from "../../profiles.js";
import type { Vec3 } from "../volume.js";
import { Progress } from "../../util/progress.js";
import { Rng } from "../../util/rng.js";

export interface PhantomSetOptions {
  out: string;
  seed: number;
  profile: PhantomProfile;
  /** Overrides of the profile's grid. */
  size?: Vec3;
  spacing?: Vec3;
  /** Only these sites (ids like "D1"); default all 16. */
  sites?: string[];
  singleSite?: boolean;
  log?: (line: string) => void;
}

interface PlannedCase {
  look: SiteLook;
  split: "train" | "test";
  name: string;
  anatomySeed: number;
  noiseSeed: number;
  duplicateOf?: string;
}

export interface PhantomSetSummary {
  written: number;
  skipped: number;
  lists: Record<string, string>;
}

function plan(look: SiteLook, nTrain: number, nTest: number, rng: Rng, numberFrom = 1): PlannedCase[] {
  const cases: PlannedCase[] = [];
  let num = numberFrom;
  for (const [split, n] of [
    ["train", nTrain],
    ["test", nTest],
  ] as const) {
    for (let i = 0; i < n; i++, num++) {
      const name = `case${String(num).padStart(4, "0")}`;
      const trainSoFar = cases.filter((c) => c.split === "train" && !c.duplicateOf);
      const dup = split === "train" && trainSoFar.length > 0 && rng.bernoulli(look.duplicateRate);
      const src = dup ? trainSoFar[rng.int(trainSoFar.length)] : undefined;
      cases.push({
        look,
        split,
        name,
        anatomySeed: src ? src.anatomySeed : rng.nextUint32(),
        noiseSeed: rng.nextUint32(),
        duplicateOf: src?.name,
      });
    }
  }
  return cases;
}

export function runPhantomSet(opts: PhantomSetOptions): PhantomSetSummary {
  const log = opts.log ?? ((s: string) => process.stderr.write(s + "\n"));
  const p = opts.profile;
  const grid = phantomGrid(opts.size, opts.spacing ?? (opts.size ? undefined : p.spacing));
  const template = loadPhantomTemplate();
  const looks = siteLooks(opts.seed);
  const rng = new Rng(opts.seed);
  const wanted = opts.sites ?? SITES.map((s) => s.id);
  for (const w of wanted) if (!SITES.some((s) => s.id === w)) throw new Error(`phantom: unknown site "${w}" (D1..D16)`);
  const groups: { list: string; cases: PlannedCase[] }[] = [];
  const stream: PlannedCase[] = [];
  SITES.forEach((s, i) => {
    const siteRng = rng.fork(); // forked for every site, so a subset of sites gets the same cases
    if (!wanted.includes(s.id)) return;
    const nTrain = Math.max(p.minTrainPerSite, Math.round(s.train * p.caseScale));
    const nTest = Math.max(p.minTestPerSite, Math.round(s.test * p.caseScale));
    // BTCV numbers its cases from 1; keep them below 60 so template "01" applies (>= 60 means "01_2").
    stream.push(...plan(looks[i], nTrain, nTest, siteRng));
  });
  groups.push({ list: "stream", cases: stream });
  if (opts.singleSite ?? true) {
    groups.push({ list: "single-site", cases: plan(singleSiteLook(opts.seed), p.singleSiteTrain, p.singleSiteTest, rng.fork()) });
  }
  const total = groups.reduce((s, g) => s + g.cases.length, 0);
  const progress = new Progress({ label: "phantom", total });
  const summary: PhantomSetSummary = { written: 0, skipped: 0, lists: {} };
  const facts: Record<string, unknown>[] = [];
  let done = 0;
  for (const g of groups) {
    const entries: Record<"train" | "test", { image: string; label: string }[]> = { train: [], test: [] };
    for (const c of g.cases) {
      const image = `${c.look.dataset}/img/${c.name}.nii.gz`;
      const label = `${c.look.dataset}/label/${c.name}.nii.gz`;
      entries[c.split].push({ image, label });
      const anatomy = randomAnatomy(template, c.look, new Rng(c.anatomySeed));
      facts.push({
        site: c.look.siteId,
        split: c.split,
        image,
        duplicateOf: c.duplicateOf ?? null,
        lesions: anatomy.lesions.map((l) => ({ classId: l.classId, radiusMm: +l.radii[0].toFixed(1) })),
      });
      done++;
      if (existsSync(join(opts.out, image)) && existsSync(join(opts.out, label))) {
        summary.skipped++;
        progress.update(done);
        continue;
      }
      const r = renderPhantom(template, c.look, anatomy, grid, new Rng(c.noiseSeed));
      const labels = { ...r.classes, data: rawDatasetLabels(r.classes.data, c.look.template) };
      writeNifti(join(opts.out, image), asStored(r.image, c.look), { datatype: "int16", description: `massive phantom ${c.look.siteId}` });
      writeNifti(join(opts.out, label), asStored(labels, c.look), { datatype: "uint8", description: `massive phantom ${c.look.siteId} labels` });
      summary.written++;
      progress.update(done, `${c.look.siteId} ${c.split} ${c.name}`);
    }
    for (const split of ["train", "test"] as const) {
      const file = join(opts.out, `${g.list}_${split}.txt`);
      mkdirSync(opts.out, { recursive: true });
      writeFileSync(file, formatListFile(entries[split]));
      summary.lists[`${g.list}_${split}`] = file;
    }
  }
  writeFileSync(join(opts.out, "phantom.json"), JSON.stringify({ seed: opts.seed, grid, looks: [...looks, singleSiteLook(opts.seed)], cases: facts }, null, 1));
  log(
    `phantom: ${summary.written} cases written, ${summary.skipped} already there, grid ${grid.shape.join("x")} at ${grid.spacing.map((s) => s.toFixed(2)).join("x")} mm -> ${opts.out}`,
  );
  return summary;
}
