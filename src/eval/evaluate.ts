/** Evaluate a model on prepared test cases: sliding window, threshold 0.5, Dice per template organ. */
import type { Vec3 } from "../data/volume.js";
import type { UniversalUNet } from "../model/universal-unet.js";
import type { TrainingCase } from "../train/cases.js";
import { dice, summariseDice, type CaseDice, type DiceSummary } from "./dice.js";
import { slidingWindowProbabilities } from "./sliding-window.js";

export function evaluateCase(model: UniversalUNet, c: TrainingCase, roi: Vec3): CaseDice {
  // Only organs of the template with non-empty ground truth count.
  const present = c.organs.filter((k) => c.label.data.includes(k));
  const out: CaseDice = { caseId: c.id, site: c.site, dice: {} };
  if (present.length === 0) return out;
  const probs = slidingWindowProbabilities(model, c.image, roi, present);
  present.forEach((k, i) => {
    const p = probs[i];
    const pred = new Uint8Array(p.length);
    for (let v = 0; v < p.length; v++) pred[v] = p[v] > 0.5 ? 1 : 0;
    const truth = new Uint8Array(c.label.data.length);
    for (let v = 0; v < truth.length; v++) truth[v] = c.label.data[v] === k ? 1 : 0;
    out.dice[k] = dice(pred, truth);
  });
  return out;
}

export function evaluateCases(model: UniversalUNet, cases: TrainingCase[], roi: Vec3, onCase?: (i: number, r: CaseDice) => void): { cases: CaseDice[]; summary: DiceSummary } {
  const results = cases.map((c, i) => {
    const r = evaluateCase(model, c, roi);
    onCase?.(i, r);
    return r;
  });
  return { cases: results, summary: summariseDice(results) };
}
