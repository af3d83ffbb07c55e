/**
 * Dice per organ per case and its aggregation (docs/method.md#evaluation): Dice for the organs of the case's
 * template with non-empty ground truth; per class, the mean over the cases that have it; Organ average
 * over ids 1-25, Tumor average over 26-32, Average over every class present.
 */
import { TUMOR_CLASS_IDS } from "../data/ontology.js";

/**
 * Dice as the reference's utils/utils.py dice_score: 2 |P n G| / (|P| + |G| + 1), the `+ 1` in the
 * denominator only (so an empty prediction of an empty truth scores 0; the reference, and evaluate.ts,
 * score only organs whose ground truth is non-empty).
 */
export function dice(pred: ArrayLike<boolean | number>, truth: ArrayLike<boolean | number>): number {
  if (pred.length !== truth.length) throw new Error(`dice: prediction of ${pred.length} voxels, truth of ${truth.length}`);
  let inter = 0,
    p = 0,
    t = 0;
  for (let i = 0; i < truth.length; i++) {
    const a = pred[i] ? 1 : 0;
    const b = truth[i] ? 1 : 0;
    inter += a & b;
    p += a;
    t += b;
  }
  return (2 * inter) / (p + t + 1);
}

export interface CaseDice {
  caseId: string;
  site: string;
  /** class id -> Dice, only for template organs with non-empty ground truth. */
  dice: Record<number, number>;
}

export interface DiceSummary {
  perClass: Record<number, { mean: number; cases: number }>;
  organAverage: number | null;
  tumorAverage: number | null;
  average: number | null;
}

const meanOf = (xs: number[]) => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : null);

export function summariseDice(cases: CaseDice[]): DiceSummary {
  const byClass = new Map<number, number[]>();
  for (const c of cases) for (const [k, v] of Object.entries(c.dice)) (byClass.get(Number(k)) ?? byClass.set(Number(k), []).get(Number(k))!).push(v);
  const perClass: DiceSummary["perClass"] = {};
  for (const [k, vs] of [...byClass].sort((a, b) => a[0] - b[0])) perClass[k] = { mean: meanOf(vs)!, cases: vs.length };
  const ids = Object.keys(perClass).map(Number);
  const means = (sel: (id: number) => boolean) => meanOf(ids.filter(sel).map((id) => perClass[id].mean));
  return {
    perClass,
    organAverage: means((id) => !TUMOR_CLASS_IDS.includes(id)),
    tumorAverage: means((id) => TUMOR_CLASS_IDS.includes(id)),
    average: means(() => true),
  };
}

/**
 * Figure 2: (Dice after site j - Dice after site k) / Dice after site k; 0 at k, negative = forgotten.
 * Null ("not defined") when the Dice after site k is 0: 0/0 is not "no forgetting", and x/0 is no gain.
 */
export function relativeDiceDrop(diceAfterJ: number, diceAfterK: number): number | null {
  if (!(diceAfterK > 0) || !Number.isFinite(diceAfterJ)) return null;
  return (diceAfterJ - diceAfterK) / diceAfterK;
}
