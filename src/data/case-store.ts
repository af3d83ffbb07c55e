/**
 * Prepared cases for training and evaluation: read from a prepared folder's manifest, padded to the
 * patch size, with the per-case organ-ratio weights of the loss. The stream is the train split in the
 * paper's site order (D1..D16), cases in manifest order within a site; never shuffled.
 */
import { join } from "node:path";
import { preparedFilesProblem, readManifest, type Manifest, type ManifestCase, type Split } from "./manifest.js";
import { readLabelNifti, readNifti, NiftiError } from "./nifti.js";
import { SITES, templateClasses } from "./ontology.js";
import { classCounts, invalidCode } from "./post-label.js";
import { padToAtLeast, sameGeometry, type Vec3, type Volume } from "./volume.js";

export interface TrainingCase {
  /** Position in its list (stream position for the train split). */
  idx: number;
  id: string;
  site: string;
  template: string;
  /** Template class ids (the organs the loss sees). */
  organs: number[];
  /** Voxels of each class in the whole case (multi-hot), for the loss's organ-ratio weights. */
  classCounts: ReadonlyMap<number, number>;
  image: Volume<Float32Array>;
  label: Volume<Uint8Array>;
}

const SITE_ORDER = new Map(SITES.map((s, i) => [s.id, i]));

/** Manifest cases of one split, in stream order (sites in the paper's order; others after, by name). */
export function orderedCases(m: Manifest, split: Split, sites?: string[]): ManifestCase[] {
  const cs = m.cases.filter((c) => c.split === split && (!sites || sites.includes(c.site)));
  return cs
    .map((c, i) => ({ c, i }))
    .sort((a, b) => {
      const sa = SITE_ORDER.get(a.c.site) ?? 1000;
      const sb = SITE_ORDER.get(b.c.site) ?? 1000;
      return sa - sb || (sa === 1000 ? a.c.site.localeCompare(b.c.site) : 0) || a.i - b.i;
    })
    .map((x) => x.c);
}

export class CaseStore {
  readonly manifest: Manifest;
  private readonly cache = new Map<string, TrainingCase>();

  constructor(
    readonly dir: string,
    readonly roi: Vec3,
    /** Keep at most this many cases in memory (volumes are re-read after eviction). */
    private readonly cacheLimit = 4096,
  ) {
    this.manifest = readManifest(dir);
  }

  list(split: Split, sites?: string[]): ManifestCase[] {
    return orderedCases(this.manifest, split, sites);
  }

  /**
   * The training stream: the train split in stream order, without cases whose label has none of their
   * template's classes (nothing to learn from; prep reported them), with a note naming those. Every
   * file of the stream is checked now, so that a missing or truncated one stops the run before it starts.
   */
  trainStream(sites: string[] | undefined, log: (line: string) => void): ManifestCase[] {
    const all = this.list("train", sites);
    const unlabelled = all.filter((c) => c.classesPresent.length === 0);
    if (unlabelled.length) {
      log(`train: note: skipping ${unlabelled.length} case(s) with no labelled voxel (see massive prep's report): ${unlabelled.map((c) => c.id).join(", ")}`);
    }
    const stream = all.filter((c) => c.classesPresent.length > 0);
    const problems = stream.map((c) => preparedFilesProblem(this.dir, c)).filter((p): p is string => p !== undefined);
    if (problems.length) {
      throw new Error(`${this.dir}: ${problems.length} prepared file(s) unusable, run massive prep again:\n  ${problems.slice(0, 10).join("\n  ")}`);
    }
    return stream;
  }

  load(c: ManifestCase, idx: number): TrainingCase {
    const key = `${c.id}@${idx}`;
    const hit = this.cache.get(key);
    if (hit) return hit;
    const imageFile = join(this.dir, c.image);
    const labelFile = join(this.dir, c.label);
    const img = readNifti(imageFile);
    const lab = readLabelNifti(labelFile);
    if (!sameGeometry(img, lab, 1e-2)) throw new NiftiError(labelFile, `grid does not match its image ${imageFile}`);
    const organs = [...templateClasses(c.template)];
    const bad = invalidCode(lab.data);
    if (bad !== undefined) {
      throw new NiftiError(labelFile, `label value ${bad} is not a post-label code (organ part above 25): prepared by an older kit? run massive prep again`);
    }
    const counts = classCounts(lab.data);
    const stray = [...counts.keys()].filter((k) => !organs.includes(k));
    if (stray.length) throw new NiftiError(labelFile, `classes ${stray.join(", ")} are not in template "${c.template}"`);
    const tc: TrainingCase = {
      idx,
      id: c.id,
      site: c.site,
      template: c.template,
      organs,
      classCounts: counts,
      image: padToAtLeast({ shape: img.shape, spacing: img.spacing, affine: img.affine, data: img.data }, this.roi),
      label: padToAtLeast({ shape: lab.shape, spacing: lab.spacing, affine: lab.affine, data: lab.data }, this.roi),
    };
    if (this.cache.size >= this.cacheLimit) this.cache.delete(this.cache.keys().next().value!);
    this.cache.set(key, tc);
    return tc;
  }
}
