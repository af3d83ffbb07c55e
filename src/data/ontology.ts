/**
 * The Universal Model's 32-class ontology, the per-dataset label templates and the paper's 16-site
 * stream, read from assets/paot.json (a copy of ../shared/data/universal-model/paot.json).
 */
import paot from "../../assets/paot.json" with { type: "json" };

export interface SiteInfo {
  /** Stream position name, D1..D16. */
  id: string;
  /** Dataset folder name in PAOT, e.g. "05_KiTS" or "10_Decathlon/Task03_Liver". */
  dataset: string;
  /** Label template key, e.g. "05" or "10_03". */
  template: string;
  train: number;
  test: number;
  total: number;
}

/** Class names; class id k (1-based) is CLASS_NAMES[k - 1]. */
export const CLASS_NAMES: readonly string[] = paot.classes;
export const NUM_CLASSES = CLASS_NAMES.length;
export const TUMOR_CLASS_IDS: readonly number[] = paot.tumorClassIds;
export const ORGAN_CLASS_IDS: readonly number[] = CLASS_NAMES.map((_, i) => i + 1).filter((id) => !TUMOR_CLASS_IDS.includes(id));
export const SITES: readonly SiteInfo[] = paot.sites;
export const PREPROCESSING = paot.preprocessing;
export const TRAINING = paot.training;

/**
 * TotalSegmentator v2 ("total" task) ids -> Universal Model class ids. Lung lobes merge into the lungs,
 * small bowel becomes Intestine, kidney cysts become Kidney Cyst; femur (whole bone) stands in for the
 * head of femur, the closest structure TotalSegmentator has.
 */
export const TOTALSEG_TO_CLASS: Readonly<Record<number, number>> = {
  1: 1, // spleen
  2: 2, // kidney_right
  3: 3, // kidney_left
  4: 4, // gallbladder
  5: 6, // liver
  6: 7, // stomach
  7: 11, // pancreas
  8: 12, // adrenal_gland_right
  9: 13, // adrenal_gland_left
  10: 17, // lung_upper_lobe_left
  11: 17, // lung_lower_lobe_left
  12: 16, // lung_upper_lobe_right
  13: 16, // lung_middle_lobe_right
  14: 16, // lung_lower_lobe_right
  15: 5, // esophagus
  18: 19, // small_bowel -> Intestine
  19: 14, // duodenum
  20: 18, // colon
  21: 21, // urinary_bladder
  22: 22, // prostate
  23: 32, // kidney_cyst_left
  24: 32, // kidney_cyst_right
  52: 8, // aorta
  63: 9, // inferior_vena_cava -> Postcava
  64: 10, // portal_vein_and_splenic_vein
  75: 23, // femur_left -> Left Head of Femur
  76: 24, // femur_right -> Right Head of Femur
};

/** TotalSegmentator structures that lie inside an organ: kidney cysts (class 32) inside their kidney. */
export const TOTALSEG_INSIDE: Readonly<Record<number, number>> = { 23: 3, 24: 2 };

/** Template key for data labelled through the TotalSegmentator mapping: every class it can produce. */
export const TOTALSEG_TEMPLATE_KEY = "totalseg";

const TEMPLATES: Readonly<Record<string, readonly number[]>> = {
  ...paot.templates,
  [TOTALSEG_TEMPLATE_KEY]: [...new Set(Object.values(TOTALSEG_TO_CLASS))].sort((a, b) => a - b),
};

export function templateKeys(): string[] {
  return Object.keys(TEMPLATES);
}

/**
 * The class ids a dataset annotates (after the label transfer of src/data/label-transfer.ts, which maps
 * the dataset's own numbering onto them).
 */
export function templateClasses(key: string): readonly number[] {
  const t = TEMPLATES[key];
  if (!t) throw new Error(`unknown label template "${key}"; known: ${templateKeys().join(", ")}`);
  return t;
}

export function className(id: number): string {
  const name = CLASS_NAMES[id - 1];
  if (name === undefined) throw new Error(`class id ${id} is outside 1..${NUM_CLASSES}`);
  return name;
}

export function isTumorClass(id: number): boolean {
  return TUMOR_CLASS_IDS.includes(id);
}

export function siteById(id: string): SiteInfo {
  const s = SITES.find((x) => x.id === id);
  if (!s) throw new Error(`unknown site "${id}"; the stream has ${SITES.map((x) => x.id).join(", ")}`);
  return s;
}

/**
 * The template key of a PAOT-style relative path, e.g. "10_Decathlon/Task03_Liver/imagesTr/x.nii.gz"
 * -> "10_03", "05_KiTS/img/x.nii.gz" -> "05". BTCV ("01") labels numbered >= 60 use "01_2", as in the
 * reference code (case number from "img0061" / "label0061" / "case0061" names only). Returns undefined when the path does not start with a PAOT dataset folder.
 */
export function templateKeyFromPath(relPath: string): string | undefined {
  const parts = relPath.split(/[\\/]/).filter((p) => p && p !== ".");
  const head = parts[0] ?? "";
  const m = /^(\d\d)_/.exec(head);
  if (!m) return undefined;
  const num = m[1];
  if (num === "10") {
    const task = /^Task(\d\d)/.exec(parts[1] ?? "");
    return task ? `10_${task[1]}` : undefined;
  }
  if (num === "01") {
    // Only BTCV's own naming ("img0061", "label0061", the phantom's "case0061") carries a case number;
    // digits elsewhere in a name (e.g. "float64") are not one.
    const file = (parts[parts.length - 1] ?? "").replace(/\.nii(\.gz)?$/, "");
    const n = /^(?:img|label|case)[-_]?(\d+)$/i.exec(file);
    if (n && Number(n[1]) >= 60) return "01_2";
  }
  return TEMPLATES[num] ? num : undefined;
}

/** The stream site (D1..D16) whose dataset a template key belongs to, if any. */
export function siteForTemplate(key: string): SiteInfo | undefined {
  const base = key === "01_2" ? "01" : key;
  return SITES.find((s) => s.template === base);
}
