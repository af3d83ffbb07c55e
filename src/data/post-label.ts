/**
 * Post labels: the reference trains on multi-hot 32-channel targets (the Universal Model's "post labels")
 * in which a tumour voxel is also a voxel of its organ (a liver tumour is Liver too, a kidney tumour or
 * cyst is its kidney too). A voxel holds at most one organ (ids 1-25) and at most one tumour class (ids
 * 26-32), so the kit stores the 32 channels in one byte per voxel:
 *
 *   code = organ + 32 * (tumour - 25)      (tumour 0: none)
 *
 * e.g. 6 = Liver, 32 * 2 = 64 = Liver Tumor outside any labelled organ, 6 + 64 = 70 = Liver Tumor inside
 * Liver. Codes below 26 are plain organ ids, so label files without tumours read as before. Channel k of
 * the multi-hot target is `hasClass(code, k)`; loss, crops, evaluation and Dice all go through it.
 */
import { NUM_CLASSES, TUMOR_CLASS_IDS } from "./ontology.js";

/** Organ ids are 1..25, tumour ids 26..32 (paot.json). */
export const LAST_ORGAN_ID = 25;
const TUMOR_SHIFT = 5; // 32 = 1 << 5 > LAST_ORGAN_ID

if (TUMOR_CLASS_IDS.some((t, i) => t !== LAST_ORGAN_ID + 1 + i) || NUM_CLASSES !== 32) {
  throw new Error("post-label: the encoding assumes organ ids 1-25 and tumour ids 26-32 (paot.json changed)");
}

export function isOrganId(k: number): boolean {
  return Number.isInteger(k) && k >= 1 && k <= LAST_ORGAN_ID;
}

export function isTumourId(k: number): boolean {
  return Number.isInteger(k) && k > LAST_ORGAN_ID && k <= NUM_CLASSES;
}

/** The code of a voxel in `organ` (0: none) holding `tumour` (0: none). */
export function postLabel(organ: number, tumour = 0): number {
  if (organ !== 0 && !isOrganId(organ)) throw new Error(`post label: ${organ} is not an organ id (1..${LAST_ORGAN_ID})`);
  if (tumour !== 0 && !isTumourId(tumour)) throw new Error(`post label: ${tumour} is not a tumour id (${LAST_ORGAN_ID + 1}..${NUM_CLASSES})`);
  return organ + (tumour ? (tumour - LAST_ORGAN_ID) << TUMOR_SHIFT : 0);
}

/** The organ id of a code (0: none). */
export function organOf(code: number): number {
  return code & 31;
}

/** The tumour class id of a code (0: none). */
export function tumourOf(code: number): number {
  const t = code >> TUMOR_SHIFT;
  return t ? t + LAST_ORGAN_ID : 0;
}

/** Whether channel k (class id 1..32) of the multi-hot target is set at a voxel with this code. */
export function hasClass(code: number, k: number): boolean {
  return k > LAST_ORGAN_ID ? code >> TUMOR_SHIFT === k - LAST_ORGAN_ID : (code & 31) === k && k !== 0;
}

/** A byte that is not a post-label code (organ bits 26-31), or undefined. */
export function invalidCode(labels: Uint8Array): number | undefined {
  for (const v of labels) if ((v & 31) > LAST_ORGAN_ID) return v;
  return undefined;
}

/** Channel k as a 0/1 mask. */
export function classMask(labels: Uint8Array, k: number): Uint8Array {
  const out = new Uint8Array(labels.length);
  for (let i = 0; i < labels.length; i++) if (hasClass(labels[i], k)) out[i] = 1;
  return out;
}

/** Voxels per class id (multi-hot: a tumour voxel inside an organ counts for both). */
export function classCounts(labels: Uint8Array): Map<number, number> {
  const byCode = new Float64Array(256);
  for (const v of labels) byCode[v]++;
  const counts = new Map<number, number>();
  const add = (k: number, n: number) => counts.set(k, (counts.get(k) ?? 0) + n);
  for (let code = 1; code < 256; code++) {
    const n = byCode[code];
    if (!n) continue;
    if (organOf(code)) add(organOf(code), n);
    if (tumourOf(code)) add(tumourOf(code), n);
  }
  return counts;
}

/** The class ids present, ascending. */
export function classesIn(labels: Uint8Array): number[] {
  return [...classCounts(labels).keys()].sort((a, b) => a - b);
}

/** One class per voxel for pictures: the tumour where there is one, else the organ. */
export function displayClass(code: number): number {
  return tumourOf(code) || organOf(code);
}
