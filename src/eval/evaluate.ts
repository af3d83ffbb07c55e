/** Evaluate a model on prepared test cases: sliding window, threshold 0.5, Dice per template organ. */
import type { Vec3 } from "../data/volume.js";
import type { UniversalUNet } from "../model/universal-unet.js";
import type { TrainingCase } from "../train/cases.js";
import { dice, summariseDice, type CaseDice, type DiceSummary } from "./dice.js";
import { foregroundThreshold, slidingWindow, type Blend } from "./sliding-window.js";
import type { CaseStore } from "../train/cases.js";
import { Progress } from "../util/progress.js";

export async function evaluateCase(model: UniversalUNet, c: TrainingCase, roi: Vec3, blend: Blend = "logits"): Promise<CaseDice> {
  // Only organs of the template with non-empty ground truth count.
  const present = c.organs.filter((k) => c.label.data.includes(k));
  const out: CaseDice = { caseId: c.id, site: c.site, dice: {} };
  if (present.length === 0) return out;
  const maps = await slidingWindow((x, k) => model.predict(x, k).logits, c.image, roi, present, { blend });
  const threshold = foregroundThreshold(blend);
  present.forEach((k, i) => {
    const p = maps[i];
    const pred = new Uint8Array(p.length);
    for (let v = 0; v < p.length; v++) pred[v] = p[v] > threshold ? 1 : 0;
    const truth = new Uint8Array(c.label.data.length);
    for (let v = 0; v < truth.length; v++) truth[v] = c.label.data[v] === k ? 1 : 0;
    out.dice[k] = dice(pred, truth);
  });
  return out;
}

/** Evaluate on a split of a prepared folder (optionally some sites), with progress on long runs. */
export async function evaluateSplit(
  model: UniversalUNet,
  store: CaseStore,
  roi: Vec3,
  opts: { split?: "train" | "test"; sites?: string[]; progress?: boolean; blend?: Blend } = {},
): Promise<{ cases: CaseDice[]; summary: DiceSummary }> {
  const list = store.list(opts.split ?? "test", opts.sites);
  if (list.length === 0) throw new Error(`${store.dir}: no ${opts.split ?? "test"} cases${opts.sites ? ` for sites ${opts.sites.join(",")}` : ""}`);
  const progress = opts.progress === false ? undefined : new Progress({ label: "eval", total: list.length });
  const results: CaseDice[] = [];
  for (const [i, c] of list.entries()) {
    results.push(await evaluateCase(model, store.load(c, i), roi, opts.blend));
    progress?.update(i + 1, c.id);
  }
  return { cases: results, summary: summariseDice(results) };
}
