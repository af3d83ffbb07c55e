/**
 * Turn one CT and its label map into a training case: RAS orientation, resampling to the target
 * spacing, labels mapped to the 32-class ontology (partial labels: only the template's classes),
 * HU window to [0, 1], crop to the body. This is the reference's MONAI preprocessing in plain TypeScript.
 */
import { NiftiError, readLabelNifti, readNifti } from "./nifti.js";
import { PREPROCESSING, TOTALSEG_TEMPLATE_KEY, TOTALSEG_TO_CLASS, templateClasses, templateLabelLut } from "./ontology.js";
import {
  axisCodes,
  cropBox,
  foregroundBox,
  padToAtLeast,
  reorientToRAS,
  resample,
  sameGeometry,
  windowHU,
  type Vec3,
  type Volume,
} from "./volume.js";

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
}

export interface PreparedVolumes {
  image: Volume<Float32Array>;
  label: Volume<Uint8Array>;
  /** Class ids with at least one voxel. */
  classesPresent: number[];
  sourceOrientation: string;
}

/** Map raw label values to class ids; values the mapping does not know are errors (template) or dropped. */
export function mapLabels(raw: Uint8Array, mapping: LabelMapping, templateKey: string, file: string): Uint8Array {
  const out = new Uint8Array(raw.length);
  if (mapping === "template") {
    const lut = templateLabelLut(templateKey);
    for (let i = 0; i < raw.length; i++) {
      const v = raw[i];
      if (v >= lut.length) {
        throw new NiftiError(
          file,
          `label value ${v} has no class: template "${templateKey}" defines labels 1..${lut.length - 1} (${templateClasses(templateKey).join(", ")})`,
        );
      }
      out[i] = lut[v];
    }
    return out;
  }
  // TotalSegmentator: unmapped structures (bones, muscles, ...) are background; keep only the template's classes.
  const keep = new Set(templateClasses(templateKey));
  const lut = new Uint8Array(256);
  for (const [ts, cls] of Object.entries(TOTALSEG_TO_CLASS)) if (keep.has(cls)) lut[Number(ts)] = cls;
  for (let i = 0; i < raw.length; i++) out[i] = lut[raw[i]];
  return out;
}

export function preprocessCase(imageFile: string, labelFile: string, opts: PreprocessOptions): PreparedVolumes {
  const [lo, hi] = opts.huWindow ?? (PREPROCESSING.huWindow as [number, number]);
  const img = readNifti(imageFile);
  const lab = readLabelNifti(labelFile);
  if (img.shape.some((n, i) => n !== lab.shape[i])) {
    throw new NiftiError(labelFile, `label shape ${lab.shape.join("x")} does not match image ${imageFile} shape ${img.shape.join("x")}`);
  }
  if (!sameGeometry(img, lab, 1e-2)) {
    throw new NiftiError(labelFile, `label affine does not match the affine of image ${imageFile} (same grid required)`);
  }
  const sourceOrientation = axisCodes(img.affine);
  const classes = mapLabels(lab.data, opts.labelMapping, opts.templateKey, labelFile);
  let image: Volume<Float32Array> = reorientToRAS({ shape: img.shape, spacing: img.spacing, affine: img.affine, data: img.data });
  let label: Volume<Uint8Array> = reorientToRAS({ shape: lab.shape, spacing: lab.spacing, affine: lab.affine, data: classes });
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
  const seen = new Set<number>();
  for (const v of label.data) if (v) seen.add(v);
  return { image, label, classesPresent: [...seen].sort((a, b) => a - b), sourceOrientation };
}

/** Labels other than the template key's own classes must not appear (partial-label contract). */
export function templateViolations(label: Uint8Array, templateKey: string): number[] {
  const allowed = new Set(templateClasses(templateKey));
  const bad = new Set<number>();
  for (const v of label) if (v && !allowed.has(v)) bad.add(v);
  return [...bad].sort((a, b) => a - b);
}
