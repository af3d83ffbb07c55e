/**
 * Evaluate a model on prepared test cases: sliding window, threshold 0.5, the reference's post-processing,
 * Dice per template organ.
 */
import type { Vec3 } from "../data/volume.js";
import type { UniversalUNet } from "../model/universal-unet.js";
import { classCounts, classMask } from "../data/post-label.js";
import { dice, summariseDice, type CaseDice, type DiceSummary } from "./dice.js";
import { classesNeeded, postprocessCase } from "./postprocess.js";
import { foregroundThreshold, slidingWindow, type Blend } from "./sliding-window.js";
import type { CaseStore, TrainingCase } from "../data/case-store.js";
import { Progress } from "../util/progress.js";

export interface EvaluateOptions {
  blend?: Blend;
  /**
   * Apply the reference's post-processing (largest component, vein cut, lung split, tumours inside their
   * organ; postprocess.ts) to the thresholded predictions before scoring. Default true, as the reference;
   * false scores the raw output (`--no-postprocess`).
   */
  postprocess?: boolean;
}

/**
 * One case: sliding window, sigmoid > 0.5 per class, the reference's post-processing over the template's
 * classes (unless off), then Dice for the template organs whose ground truth is non-empty.
 */
export async function evaluateCase(model: UniversalUNet, c: TrainingCase, roi: Vec3, opts: EvaluateOptions | Blend = {}): Promise<CaseDice> {
  const o: EvaluateOptions = typeof opts === "string" ? { blend: opts } : opts;
  const blend = o.blend ?? "logits";
  const post = o.postprocess ?? true;
  // Only organs of the template with non-empty ground truth count.
  const counts = classCounts(c.label.data);
  const present = c.organs.filter((k) => counts.has(k));
  const out: CaseDice = { caseId: c.id, site: c.site, dice: {} };
  if (present.length === 0) return out;
  // Post-processing may need other classes' raw predictions (pancreas for the vein, both lungs, the organ
  // around a tumour).
  const predicted = post ? classesNeeded(present, c.organs) : present;
  const maps = await slidingWindow((x, k) => model.predict(x, k).logits, c.image, roi, predicted, { blend });
  const threshold = foregroundThreshold(blend);
  const raw = new Map<number, Uint8Array>();
  predicted.forEach((k, i) => {
    const p = maps[i];
    const pred = new Uint8Array(p.length);
    for (let v = 0; v < p.length; v++) pred[v] = p[v] > threshold ? 1 : 0;
    raw.set(k, pred);
  });
  const masks = post ? postprocessCase(raw, c.organs, c.image.shape) : raw;
  for (const k of present) {
    out.dice[k] = dice(masks.get(k) ?? raw.get(k)!, classMask(c.label.data, k));
  }
  return out;
}

/** Evaluate on a split of a prepared folder (optionally some sites), with progress on long runs. */
export async function evaluateSplit(
  model: UniversalUNet,
  store: CaseStore,
  roi: Vec3,
  opts: { split?: "train" | "test"; sites?: string[]; progress?: boolean } & EvaluateOptions = {},
): Promise<{ cases: CaseDice[]; summary: DiceSummary }> {
  const list = store.list(opts.split ?? "test", opts.sites);
  if (list.length === 0) throw new Error(`${store.dir}: no ${opts.split ?? "test"} cases${opts.sites ? ` for sites ${opts.sites.join(",")}` : ""}`);
  const progress = opts.progress === false ? undefined : new Progress({ label: "eval", total: list.length });
  const results: CaseDice[] = [];
  for (const [i, c] of list.entries()) {
    results.push(await evaluateCase(model, store.load(c, i), roi, { blend: opts.blend, postprocess: opts.postprocess }));
    progress?.update(i + 1, c.id);
  }
  return { cases: results, summary: summariseDice(results) };
}
