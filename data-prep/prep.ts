/**
 * `massive prep`: preprocess the cases of a PAOT-style list file into a prepared directory
 * (NIfTI image in [0, 1] and 32-class label map per case, plus manifest.json). A bad case is reported
 * and skipped; a rerun skips what is already prepared.
 */
import { existsSync } from "node:fs";
import { basename, join, resolve } from "node:path";
import { readListFile } from "../src/data/listfile.js";
import { emptyManifest, readManifest, writeManifest, MANIFEST_NAME, type Manifest, type Split } from "../src/data/manifest.js";
import { writeNifti } from "../src/data/nifti.js";
import { PREPROCESSING, siteForTemplate, templateClasses, templateKeyFromPath, TOTALSEG_TEMPLATE_KEY } from "../src/data/ontology.js";
import { preprocessCase, type LabelMapping } from "../src/data/preprocess.js";
import type { Vec3 } from "../src/data/volume.js";
import { Progress } from "../src/util/progress.js";

export interface PrepOptions {
  list: string;
  root: string;
  out: string;
  spacing: Vec3;
  /** Template for every case; otherwise derived from each path's PAOT dataset folder. */
  datasetKey?: string;
  labelMapping: LabelMapping;
  /** Split for the manifest; default: "test" if the list's file name says so, else "train". */
  split?: Split;
  /** Site id recorded for every case (default: the template's stream site, else "external"). */
  site?: string;
  minShape?: Vec3;
  log?: (line: string) => void;
}

export interface PrepSummary {
  prepared: number;
  skipped: number;
  failed: { image: string; error: string }[];
  manifest: Manifest;
}

export function caseIdFromPath(rel: string): string {
  return rel
    .replace(/\.nii(\.gz)?$/, "")
    .replace(/[\\/]+/g, "_")
    .replace(/[^A-Za-z0-9_.-]/g, "-");
}

export function runPrep(opts: PrepOptions): PrepSummary {
  const log = opts.log ?? ((s: string) => process.stderr.write(s + "\n"));
  const entries = readListFile(opts.list);
  const split: Split = opts.split ?? (/test|val/i.test(basename(opts.list)) ? "test" : "train");
  if (opts.datasetKey) templateClasses(opts.datasetKey); // fail early on an unknown key
  const huWindow = PREPROCESSING.huWindow as [number, number];
  let manifest: Manifest;
  if (existsSync(join(opts.out, MANIFEST_NAME))) {
    manifest = readManifest(opts.out);
    if (manifest.spacing.some((s, i) => Math.abs(s - opts.spacing[i]) > 1e-6)) {
      throw new Error(
        `${join(opts.out, MANIFEST_NAME)}: prepared at spacing ${manifest.spacing.join(",")} mm, asked for ${opts.spacing.join(",")}; use another --out`,
      );
    }
  } else manifest = emptyManifest(opts.spacing, huWindow);

  const progress = new Progress({ label: "prep", total: entries.length });
  const summary: PrepSummary = { prepared: 0, skipped: 0, failed: [], manifest };
  entries.forEach((e, k) => {
    const id = caseIdFromPath(e.image);
    const imageOut = `${id}_image.nii.gz`;
    const labelOut = `${id}_label.nii.gz`;
    const existing = manifest.cases.find((c) => c.id === id);
    if (existing && existsSync(join(opts.out, imageOut)) && existsSync(join(opts.out, labelOut))) {
      summary.skipped++;
      progress.update(k + 1, `${id} already prepared`);
      return;
    }
    try {
      const key =
        opts.datasetKey ??
        templateKeyFromPath(e.image) ??
        (opts.labelMapping === "totalseg" ? TOTALSEG_TEMPLATE_KEY : undefined);
      if (!key) {
        throw new Error(
          `${opts.list}:${e.line}: cannot tell the label template of "${e.image}" (not under a PAOT dataset folder); pass --dataset-key`,
        );
      }
      const imagePath = resolve(opts.root, e.image);
      const labelPath = resolve(opts.root, e.label);
      const prepared = preprocessCase(imagePath, labelPath, {
        spacing: opts.spacing,
        huWindow,
        templateKey: key,
        labelMapping: opts.labelMapping,
        minShape: opts.minShape,
      });
      writeNifti(join(opts.out, imageOut), prepared.image, { datatype: "float32", description: `massive ${id}` });
      writeNifti(join(opts.out, labelOut), prepared.label, { datatype: "uint8", description: `massive ${id} labels` });
      manifest.cases = manifest.cases.filter((c) => c.id !== id);
      manifest.failures = manifest.failures.filter((f) => f.sourceImage !== e.image);
      manifest.cases.push({
        id,
        site: opts.site ?? siteForTemplate(key)?.id ?? "external",
        template: key,
        split,
        shape: prepared.image.shape,
        spacing: prepared.image.spacing,
        image: imageOut,
        label: labelOut,
        sourceImage: e.image,
        sourceLabel: e.label,
        classesPresent: prepared.classesPresent,
      });
      writeManifest(opts.out, manifest);
      summary.prepared++;
      progress.update(k + 1, `${id} ${prepared.image.shape.join("x")}`);
    } catch (err) {
      const msg = (err as Error).message;
      summary.failed.push({ image: e.image, error: msg });
      manifest.failures = manifest.failures.filter((f) => f.sourceImage !== e.image);
      manifest.failures.push({ sourceImage: e.image, sourceLabel: e.label, error: msg });
      writeManifest(opts.out, manifest);
      progress.update(k + 1, `FAILED ${id}`);
      log(`prep: skipped ${e.image}: ${msg}`);
    }
  });
  log(
    `prep: ${summary.prepared} prepared, ${summary.skipped} already there, ${summary.failed.length} failed; ` +
      `${manifest.cases.length} cases in ${join(opts.out, MANIFEST_NAME)}`,
  );
  for (const f of summary.failed) log(`  failed: ${f.image}: ${f.error}`);
  return summary;
}
