/**
 * `massive prep`: preprocess the cases of a PAOT-style list file into a prepared directory
 * (NIfTI image in [0, 1] and 32-class label map per case, plus manifest.json). A bad case is reported
 * and skipped; a rerun skips what is already prepared.
 */
import { existsSync, statSync } from "node:fs";
import { basename, join, resolve } from "node:path";
import { readListFile, type ListEntry } from "../listfile.js";
import { emptyManifest, preparedFilesProblem, readManifest, writeManifest, MANIFEST_NAME, type Manifest, type Split } from "../manifest.js";
import { writeNifti } from "../nifti.js";
import { PREPROCESSING, siteForTemplate, templateClasses, templateKeyFromPath, TOTALSEG_TEMPLATE_KEY } from "../ontology.js";
import { preprocessCase, type LabelMapping, type PreprocessOptions } from "../preprocess.js";
import type { Vec3 } from "../volume.js";
import { removeStaleTemps } from "../../util/atomic.js";
import { Progress } from "../../util/progress.js";

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
  /** --volume (4-D images) and --max-voxels. */
  read?: PreprocessOptions["read"];
  log?: (line: string) => void;
}

export interface PrepSummary {
  prepared: number;
  skipped: number;
  /** Cases prepared with none of their template's classes in the label (training skips them). */
  unlabelled: string[];
  failed: { image: string; error: string }[];
  manifest: Manifest;
}

export function caseIdFromPath(rel: string): string {
  return rel
    .replace(/\.nii(\.gz)?$/, "")
    .replace(/[\\/]+/g, "_")
    .replace(/[^A-Za-z0-9_.-]/g, "-");
}

/** The split a list's cases get: --split, else "test" when the list's file name says test/val. */
export function splitOfList(list: string, split?: Split): Split {
  return split ?? (/test|val/i.test(basename(list)) ? "test" : "train");
}

interface IdClaim {
  id: string;
  source: string;
  list: string;
  line?: number;
  split: Split;
}

function describeClaim(c: IdClaim): string {
  return `"${c.source}" (${c.line !== undefined ? `${c.list}:${c.line}` : c.list})`;
}

function inBothLists(a: IdClaim, b: IdClaim): Error {
  const where = (c: IdClaim) => (c.line !== undefined ? `${c.list}:${c.line}` : c.list);
  return new Error(
    `case "${b.id}" (${b.source}) is in both the ${a.split} list (${where(a)}) and the ${b.split} list (${where(b)}); remove it from one, or pass --split to choose`,
  );
}

/**
 * Refuse lists whose cases cannot all be prepared side by side: two source files that map to one case
 * id, a file listed twice, or a case in both a train and a test list (unless --split says which one).
 * `lists` are checked together and against the prepared folder's manifest, if any.
 */
export function checkCaseIds(lists: { file: string; entries: ListEntry[] }[], manifest: Manifest | undefined, split?: Split): void {
  const claims = new Map<string, IdClaim>();
  for (const c of manifest?.cases ?? []) {
    claims.set(c.id, { id: c.id, source: c.sourceImage, list: c.sourceList ?? "the prepared folder's manifest", split: c.split });
  }
  const fromManifest = new Set(claims.keys());
  for (const { file, entries } of lists) {
    const listSplit = splitOfList(file, split);
    for (const e of entries) {
      const claim: IdClaim = { id: caseIdFromPath(e.image), source: e.image, list: file, line: e.line, split: listSplit };
      const prev = claims.get(claim.id);
      if (prev && !fromManifest.has(claim.id)) {
        if (prev.source === claim.source) {
          if (prev.split !== claim.split) throw inBothLists(prev, claim);
          // With --split, one file in two lists is one case in one split: the second is "already there".
          if (prev.list === claim.list || split === undefined) {
            throw new Error(`case ${describeClaim(claim)} is listed twice: also ${describeClaim(prev)}; remove one`);
          }
        } else
          throw new Error(`case id collision: ${describeClaim(prev)} and ${describeClaim(claim)} both become case id "${claim.id}"; rename one of the files`);
        continue;
      }
      if (prev && fromManifest.has(claim.id)) {
        if (prev.source !== claim.source) {
          throw new Error(
            `case id collision: ${describeClaim(claim)} becomes case id "${claim.id}", which the prepared folder already holds for ${describeClaim(prev)}; rename one of the files or use another --out`,
          );
        }
        if (prev.split !== claim.split && split === undefined) throw inBothLists(prev, claim);
      }
      claims.set(claim.id, claim);
      fromManifest.delete(claim.id);
    }
  }
}

export function runPrep(opts: PrepOptions): PrepSummary {
  const log = opts.log ?? ((s: string) => process.stderr.write(s + "\n"));
  const entries = readListFile(opts.list);
  const split: Split = splitOfList(opts.list, opts.split);
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
  checkCaseIds([{ file: opts.list, entries }], manifest, opts.split);
  for (const t of removeStaleTemps(opts.out)) log(`prep: removed ${join(opts.out, t)}, left by a killed run`);

  const progress = new Progress({ label: "prep", total: entries.length });
  const summary: PrepSummary = { prepared: 0, skipped: 0, unlabelled: [], failed: [], manifest };
  entries.forEach((e, k) => {
    const id = caseIdFromPath(e.image);
    const imageOut = `${id}_image.nii.gz`;
    const labelOut = `${id}_label.nii.gz`;
    const existing = manifest.cases.find((c) => c.id === id);
    const problem = existing && preparedFilesProblem(opts.out, existing);
    if (existing && !problem) {
      if (existing.split !== split) {
        // checkCaseIds let this through only because --split was given: it decides.
        log(`prep: ${id} moves from the ${existing.split} split to ${split} (--split ${split})`);
        existing.split = split;
        existing.sourceList = opts.list;
        writeManifest(opts.out, manifest);
      }
      summary.skipped++;
      progress.update(k + 1, `${id} already prepared`);
      return;
    }
    if (problem) log(`prep: preparing ${id} again: ${problem}`);
    try {
      const key = opts.datasetKey ?? templateKeyFromPath(e.image) ?? (opts.labelMapping === "totalseg" ? TOTALSEG_TEMPLATE_KEY : undefined);
      if (!key) {
        throw new Error(`${opts.list}:${e.line}: cannot tell the label template of "${e.image}" (not under a PAOT dataset folder); pass --dataset-key`);
      }
      const imagePath = resolve(opts.root, e.image);
      const labelPath = resolve(opts.root, e.label);
      const prepared = preprocessCase(imagePath, labelPath, {
        spacing: opts.spacing,
        huWindow,
        templateKey: key,
        labelMapping: opts.labelMapping,
        minShape: opts.minShape,
        read: opts.read,
      });
      for (const w of prepared.warnings) log(`prep: warning: ${w}`);
      writeNifti(join(opts.out, imageOut), prepared.image, { datatype: "float32", description: `massive ${id}` });
      writeNifti(join(opts.out, labelOut), prepared.label, { datatype: "uint8", description: `massive ${id} labels` });
      if (prepared.classesPresent.length === 0) {
        summary.unlabelled.push(id);
        log(
          `prep: note: ${labelPath}: none of template "${key}"'s classes (${templateClasses(key).join(", ")}) has a voxel ` +
            `after preprocessing (an all-zero label?); ${id} is kept, but training skips it`,
        );
      }
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
        sourceList: opts.list,
        imageBytes: statSync(join(opts.out, imageOut)).size,
        labelBytes: statSync(join(opts.out, labelOut)).size,
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
    `prep: ${summary.prepared} prepared, ${summary.skipped} already there, ${summary.failed.length} failed` +
      (summary.unlabelled.length ? `, ${summary.unlabelled.length} without any labelled voxel (${summary.unlabelled.join(", ")})` : "") +
      `; ${manifest.cases.length} cases in ${join(opts.out, MANIFEST_NAME)}`,
  );
  for (const f of summary.failed) log(`  failed: ${f.image}: ${f.error}`);
  return summary;
}
