/**
 * Label transfer: each dataset's own label numbering -> the kit's post labels (src/data/post-label.ts), as
 * the Universal Model's label_transfer.py builds the reference's training targets:
 * 1. raw value v means class `raw[v - 1]` of the 32-class ontology (0: a structure the kit does not use);
 * 2. a tumour class with a parent organ (`inside`) is also that organ (LiTS: liver tumour inside Liver;
 *    KiTS: kidney tumour and cyst inside the kidney; Decathlon pancreas: tumour inside Pancreas);
 * 3. organs given as one label for both sides (`split`: kidneys, adrenal glands, lungs) are split into
 *    right (the class) and left (the class + 1) by 26-connected components on the RAS-oriented volume:
 *    of the two largest components the one with the smaller mean x (axis 0 runs towards the patient's
 *    right in RAS) is left; as in the reference, any further components stay right, and a single
 *    component is right.
 * Keys the reference's transfer does not list (01_2, 06, 14, 15) number their labels in template order.
 */
import { componentsBySize, connectedComponents26 } from "./components.js";
import { NiftiError } from "./nifti-error.js";
import { templateClasses } from "./ontology.js";
import { LAST_ORGAN_ID, hasClass, isTumourId, organOf, postLabel, tumourOf } from "./post-label.js";
import type { Volume } from "./volume.js";

export interface DatasetLabels {
  /** Class id of raw label value v at index v - 1 (0: not transferred). */
  raw: readonly number[];
  /** Raw values beyond `raw` that the dataset uses for structures the kit ignores (e.g. CT-ORG bone, brain). */
  ignored?: readonly number[];
  /** [tumour class, organ class]: the tumour's voxels belong to the organ too. */
  inside?: readonly (readonly [number, number])[];
  /** Organ classes given as one label for both sides: split into right (the class) and left (class + 1). */
  split?: readonly number[];
}

/** The reference's label_transfer.py, per template key (the rest: template order, no rules). */
const TRANSFER: Readonly<Record<string, DatasetLabels>> = {
  "01": { raw: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14] },
  // BTCV's numbering with only some organs annotated (the reference's "02"; "01_2" is BTCV's cases >= 60 that share it).
  "01_2": { raw: [1, 0, 3, 4, 5, 6, 7, 0, 0, 0, 11, 0, 0, 14] },
  "02": { raw: [1, 0, 3, 4, 5, 6, 7, 0, 0, 0, 11, 0, 0, 14] },
  "03": { raw: [6] },
  "04": { raw: [6, 27], inside: [[27, 6]] },
  "05": {
    raw: [2, 26, 32],
    inside: [
      [26, 2],
      [32, 2],
    ],
    split: [2],
  },
  "07": { raw: [6, 1, 3, 2, 7, 4, 5, 11, 14, 18, 19, 12, 20, 21, 23, 24], split: [12] },
  "08": { raw: [6, 2, 1, 11], split: [2] },
  "09": { raw: [1, 2, 3, 4, 5, 6, 7, 8, 9, 11, 12, 13, 14, 21, 22] },
  "10_03": { raw: [6, 27], inside: [[27, 6]] },
  "10_06": { raw: [30] },
  "10_07": { raw: [11, 28], inside: [[28, 11]] },
  "10_08": { raw: [15, 29] },
  "10_09": { raw: [1] },
  "10_10": { raw: [31] },
  // CT-ORG: 1 liver, 2 bladder, 3 lungs, 4 kidneys; 5 bone and 6 brain are not in the ontology.
  "12": { raw: [6, 21, 16, 2], ignored: [5, 6], split: [2, 16] },
  "13": { raw: [6, 2, 1, 11, 8, 9, 7, 4, 5, 12, 13, 25], split: [2] },
};

/** How a dataset numbers its labels (template order for keys the reference's transfer does not list). */
export function datasetLabelsOf(key: string): DatasetLabels {
  return TRANSFER[key] ?? { raw: templateClasses(key) };
}

/** Steps 1-2: raw values -> post-label codes (before the right/left split). Unknown values are errors. */
export function transferLabels(raw: Uint8Array, key: string, file: string): Uint8Array {
  const d = datasetLabelsOf(key);
  const lut = new Int16Array(256).fill(-1);
  lut[0] = 0;
  d.raw.forEach((cls, i) => {
    const parent = d.inside?.find(([t]) => t === cls)?.[1] ?? 0;
    lut[i + 1] = cls === 0 ? 0 : isTumourId(cls) ? postLabel(parent, cls) : postLabel(cls);
  });
  for (const v of d.ignored ?? []) lut[v] = 0;
  const out = new Uint8Array(raw.length);
  for (let i = 0; i < raw.length; i++) {
    const c = lut[raw[i]];
    if (c < 0) {
      const known = d.raw.map((cls, j) => `${j + 1}=${cls || "unused"}`).join(", ");
      throw new NiftiError(file, `label value ${raw[i]} at voxel ${i} has no class in dataset "${key}"'s numbering (${known})`);
    }
    out[i] = c;
  }
  return out;
}

/** Step 3 on a RAS-oriented volume of codes: split each `split` organ into right and left. */
export function splitRightLeft(vol: Volume<Uint8Array>, key: string): Volume<Uint8Array> {
  const organs = datasetLabelsOf(key).split ?? [];
  if (organs.length === 0) return vol;
  const data = vol.data.slice();
  const X = vol.shape[0];
  for (const organ of organs) {
    const mask = Uint8Array.from(data, (v) => (hasClass(v, organ) ? 1 : 0));
    const c = connectedComponents26(mask, vol.shape);
    if (c.count < 2) continue; // one component (or none): it stays right, as in the reference
    const [one, two] = componentsBySize(c);
    let sx1 = 0,
      sx2 = 0;
    for (let i = 0; i < data.length; i++) {
      if (c.labels[i] === one) sx1 += i % X;
      else if (c.labels[i] === two) sx2 += i % X;
    }
    const left = sx1 / c.sizes[one] < sx2 / c.sizes[two] ? one : two;
    for (let i = 0; i < data.length; i++) if (c.labels[i] === left) data[i] = postLabel(organ + 1, tumourOf(data[i]));
  }
  return { ...vol, data };
}

/**
 * The other way, for phantoms: a volume of post-label codes (the truth, every structure) as the dataset
 * `key` would label it in its own numbering. A tumour the dataset labels wins over its organ; split organs
 * get their common raw value; classes the dataset does not label are 0.
 */
export function rawDatasetLabels(codes: Uint8Array, key: string): Uint8Array {
  const d = datasetLabelsOf(key);
  const rawOf = new Uint8Array(64);
  d.raw.forEach((cls, i) => {
    if (cls === 0) return;
    rawOf[cls] = i + 1;
    if (d.split?.includes(cls)) rawOf[cls + 1] = i + 1;
  });
  const out = new Uint8Array(codes.length);
  for (let i = 0; i < codes.length; i++) {
    const v = codes[i];
    const t = rawOf[tumourOf(v)];
    out[i] = t || rawOf[organOf(v)];
  }
  return out;
}

/** Class ids of a key's transfer, after the split: they must be the template's (checked in tests). */
export function transferredClasses(key: string): number[] {
  const d = datasetLabelsOf(key);
  const s = new Set<number>();
  for (const cls of d.raw) {
    if (cls === 0) continue;
    s.add(cls);
    if (d.split?.includes(cls) && cls <= LAST_ORGAN_ID) s.add(cls + 1);
  }
  return [...s].sort((a, b) => a - b);
}
