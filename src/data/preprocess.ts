/**
 * Turn one CT and its label map into a training case: RAS orientation, resampling to the target
 * spacing, labels mapped to the 32-class ontology (partial labels: only the template's classes),
 * HU window to [0, 1], crop to the body. This is the reference's MONAI preprocessing in plain TypeScript.
 */
import { NiftiError, readLabelNifti, readNifti, type ReadOptions } from "./nifti.js";
import { splitRightLeft, transferLabels } from "./label-transfer.js";
import { PREPROCESSING, TOTALSEG_INSIDE, TOTALSEG_TO_CLASS, templateClasses } from "./ontology.js";
import { classesIn, isTumourId, postLabel } from "./post-label.js";
import { axisCodes, cropBox, foregroundBox, padToAtLeast, reorientToRAS, resample, sameGeometry, windowHU, type Vec3, type Volume } from "./volume.js";

/** How a file's label values become class ids. */
export type LabelMapping = "template" | "totalseg";

export interface PreprocessOptions {
  spacing: Vec3;
  huWindow?: [number, number];
  /** Label template key (e.g. "05"); with "totalseg" mapping, restricts the classes kept. */
  templateKey: string;
  labelMapping: LabelMapping;
  cropForeground?: boolean;
  /** Pad every axis to at least this size (the training patch). */
  minShape?: Vec3;
  /** How to read the image (--volume of a 4-D file, --max-voxels); the label gets the same voxel limit. */
  read?: Pick<ReadOptions, "volume" | "maxVoxels">;
}

export interface PreparedVolumes {
  image: Volume<Float32Array>;
  label: Volume<Uint8Array>;
  /** Class ids with at least one voxel. */
  classesPresent: number[];
  sourceOrientation: string;
  /** Doubts about the input that did not stop it (e.g. an image that does not look like CT). */
  warnings: string[];
}

/**
 * Does an image look like CT in HU? CT has air near -1000 HU (around the body, in the lungs) and a
 * range within about [-1100, 4000]; MR and other modalities have arbitrary, mostly positive intensities.
 */
export function notCtReason(data: Float32Array): string | undefined {
  let lo = Infinity,
    hi = -Infinity,
    air = 0;
  for (let i = 0; i < data.length; i++) {
    const v = data[i];
    if (v < lo) lo = v;
    if (v > hi) hi = v;
    if (v <= -800) air++;
  }
  const range = `intensities ${lo.toFixed(0)}..${hi.toFixed(0)}`;
  if (lo > -500) return `${range}: no air near -1000 HU`;
  if (air / data.length < 0.001) return `${range}: almost no voxel near -1000 HU (air)`;
  if (lo < -2100 || hi > 10000) return `${range}: outside the HU range of CT`;
  return undefined;
}

/** TotalSegmentator "total" (CT) ids whose HU is distinctive: lungs are air, parenchymal organs are soft tissue. */
const TOTALSEG_HU_RULES: { ids: number[]; what: string; lo: number; hi: number }[] = [
  { ids: [10, 11, 12, 13, 14], what: "lung lobes", lo: -1100, hi: -300 },
  { ids: [1, 2, 3, 5], what: "spleen, kidneys and liver", lo: -150, hi: 400 },
];

/**
 * Label ids that cannot mean what TotalSegmentator's CT map says, judged by the image's HU under them
 * (e.g. an MR label map, whose ids number other structures). One line per implausible id.
 */
export function totalsegLabelProblems(labels: Uint8Array, image: Float32Array): string[] {
  const sum = new Float64Array(256),
    count = new Float64Array(256);
  for (let i = 0; i < labels.length; i++) {
    const v = labels[i];
    if (v) {
      sum[v] += image[i];
      count[v]++;
    }
  }
  const problems: string[] = [];
  for (const rule of TOTALSEG_HU_RULES) {
    for (const id of rule.ids) {
      if (count[id] < 20) continue;
      const mean = sum[id] / count[id];
      if (mean < rule.lo || mean > rule.hi)
        problems.push(`label ${id} (${rule.what} in the CT map) has mean ${mean.toFixed(0)} HU, expected ${rule.lo}..${rule.hi}`);
    }
  }
  const unknown = [...new Set(labels)].filter((v) => v > 117);
  if (unknown.length) problems.push(`label ids ${unknown.join(", ")} are beyond TotalSegmentator's 117 CT classes`);
  return problems;
}

/**
 * Raw label values -> post-label codes (src/data/post-label.ts) before the right/left split: a dataset's
 * own numbering through the label transfer (src/data/label-transfer.ts; unknown values are errors), or
 * TotalSegmentator's ids, of which structures the kit does not use are background and only the template's
 * classes are kept.
 */
export function mapLabels(raw: Uint8Array, mapping: LabelMapping, templateKey: string, file: string): Uint8Array {
  if (mapping === "template") return transferLabels(raw, templateKey, file);
  const keep = new Set(templateClasses(templateKey));
  const lut = new Uint8Array(256);
  for (const [ts, cls] of Object.entries(TOTALSEG_TO_CLASS)) {
    if (!keep.has(cls)) continue;
    const organ = TOTALSEG_INSIDE[Number(ts)] ?? 0;
    lut[Number(ts)] = isTumourId(cls) ? postLabel(keep.has(organ) ? organ : 0, cls) : postLabel(cls);
  }
  const out = new Uint8Array(raw.length);
  for (let i = 0; i < raw.length; i++) out[i] = lut[raw[i]];
  return out;
}

export function preprocessCase(imageFile: string, labelFile: string, opts: PreprocessOptions): PreparedVolumes {
  const [lo, hi] = opts.huWindow ?? (PREPROCESSING.huWindow as [number, number]);
  const img = readNifti(imageFile, opts.read);
  const lab = readLabelNifti(labelFile, { maxVoxels: opts.read?.maxVoxels });
  if (img.shape.some((n, i) => n !== lab.shape[i])) {
    throw new NiftiError(labelFile, `label shape ${lab.shape.join("x")} does not match image ${imageFile} shape ${img.shape.join("x")}`);
  }
  if (!sameGeometry(img, lab, 1e-2)) {
    throw new NiftiError(labelFile, `label affine does not match the affine of image ${imageFile} (same grid required)`);
  }
  const sourceOrientation = axisCodes(img.affine);
  const warnings: string[] = [];
  const notCt = notCtReason(img.data);
  if (notCt) warnings.push(`${imageFile}: does not look like CT (${notCt}); the HU window and the label maps are for CT`);
  if (opts.labelMapping === "totalseg") {
    const problems = totalsegLabelProblems(lab.data, img.data);
    if (problems.length) {
      throw new NiftiError(
        labelFile,
        `not TotalSegmentator's CT ("total") label map: ${problems.join("; ")}${notCt ? ` (and the image does not look like CT: ${notCt})` : ""}; ` +
          `an MR (total_mr) label map is not supported`,
      );
    }
  }
  const classes = mapLabels(lab.data, opts.labelMapping, opts.templateKey, labelFile);
  let image: Volume<Float32Array> = reorientToRAS({ shape: img.shape, spacing: img.spacing, affine: img.affine, data: img.data });
  let label: Volume<Uint8Array> = reorientToRAS({ shape: lab.shape, spacing: lab.spacing, affine: lab.affine, data: classes });
  // Kidneys, adrenal glands and lungs given as one label: split by side on the RAS grid, before resampling (as the reference).
  if (opts.labelMapping === "template") label = splitRightLeft(label, opts.templateKey);
  image = windowHU(resample(image, opts.spacing, "linear"), lo, hi);
  label = resample(label, opts.spacing, "nearest");
  if (opts.cropForeground ?? true) {
    const box = foregroundBox(image, (v) => v > 0);
    image = cropBox(image, box);
    label = cropBox(label, box);
  }
  if (opts.minShape) {
    image = padToAtLeast(image, opts.minShape);
    label = padToAtLeast(label, opts.minShape);
  }
  return { image, label, classesPresent: classesIn(label.data), sourceOrientation, warnings };
}

/** Labels other than the template key's own classes must not appear (partial-label contract). */
export function templateViolations(label: Uint8Array, templateKey: string): number[] {
  const allowed = new Set(templateClasses(templateKey));
  return classesIn(label).filter((k) => !allowed.has(k));
}
