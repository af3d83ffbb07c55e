/**
 * How the results of the paper's experiments on this kit become table rows and figure series (mean +/- sd
 * over seeds), beside the paper's numbers. Which runs they are: plan.ts; Figure 2's numbers: forgetting.ts.
 */
import { SITES } from "../data/ontology.js";
import type { MemoryPoint } from "../report/plots.js";
import type { Row } from "../report/tables.js";
import { PAPER_TABLE1, PAPER_TABLE2 } from "./paper-numbers.js";
import type { MethodResults } from "./results.js";
import type { RunResult } from "./runs.js";
import type { ExperimentSettings } from "./settings.js";

export function meanSd(xs: (number | null)[]): { mean: number | null; sd: number | null; n: number } {
  const v = xs.filter((x): x is number => x !== null && Number.isFinite(x));
  if (v.length === 0) return { mean: null, sd: null, n: 0 };
  const mean = v.reduce((a, b) => a + b, 0) / v.length;
  const sd = v.length > 1 ? Math.sqrt(v.reduce((a, b) => a + (b - mean) ** 2, 0) / (v.length - 1)) : null;
  return { mean, sd, n: v.length };
}

/** The strategy as Figures 2 and 3 name it ("SM top 25%" is "SM"). */
export const strategyName = (method: string) => method.replace(/ top 25%$/, "");

const fmt = (m: { mean: number | null; sd: number | null }) =>
  m.mean === null ? "-" : m.sd === null ? m.mean.toFixed(4) : `${m.mean.toFixed(4)} ± ${m.sd.toFixed(4)}`;

export function table1Rows(s: ExperimentSettings, results: MethodResults[]): Row[] {
  return results.map((r, i) => {
    const paper = PAPER_TABLE1[i];
    const avg = meanSd(r.runs.map((x) => x.final.average));
    return {
      method: r.method,
      "paper setting": paper.memory === null ? "100 epochs" : `N=${paper.memory}, S=100`,
      "Average Dice (ours)": fmt(avg),
      "ours mean": avg.mean,
      "ours sd": avg.sd,
      "Average Dice (paper)": paper.average,
      seeds: r.runs.length,
      "steps per run": r.runs[0]?.iterations ?? null,
    };
  });
}

export function table2Rows(results: MethodResults[]): Row[] {
  return results.map((r) => {
    const paper = PAPER_TABLE2.find((p) => (r.method.startsWith("Repeated") ? p.method.startsWith("Repeated") : p.method === r.method));
    const tumor = meanSd(r.runs.map((x) => x.final.tumorAverage));
    const organ = meanSd(r.runs.map((x) => x.final.organAverage));
    const avg = meanSd(r.runs.map((x) => x.final.average));
    return {
      method: r.method,
      "Tumor (ours)": fmt(tumor),
      "Organ (ours)": fmt(organ),
      "Average (ours)": fmt(avg),
      "Tumor (paper)": paper?.tumor ?? null,
      "Organ (paper)": paper?.organ ?? null,
      "Average (paper)": paper?.average ?? null,
      "average mean": avg.mean,
      "average sd": avg.sd,
      seeds: r.runs.length,
    };
  });
}

const memoryAt = (run: RunResult, site: string) => run.siteEnds.find((e) => e.site === site)?.memory ?? [];

/**
 * Figure 3: every memory item at the end of `site`, as (source site, entropy), per strategy. The entropy is
 * SM's stored one; for LM/DM it is the kit's monitoring entropy recorded apart from the memory state (the
 * reference's LM/DM store none; see MemorySnapshotItem).
 */
export function memoryPoints(results: MethodResults[], site: string, seed?: number): MemoryPoint[] {
  const pts: MemoryPoint[] = [];
  for (const r of results) {
    const run = seed === undefined ? r.runs[0] : r.runs.find((x) => x.spec.seed === seed);
    for (const it of run ? memoryAt(run, site) : [])
      if (it.entropy !== null) pts.push({ strategy: strategyName(r.method), site: it.site, entropy: it.entropy });
  }
  return pts;
}

/** One run's share of memory items at the end of `site` that come from earlier sites (null: no snapshot). */
export function olderShare(run: RunResult, site: string): number | null {
  const idx = (x: string) => SITES.findIndex((s) => s.id === x);
  const m = memoryAt(run, site);
  return m.length ? m.filter((it) => idx(it.site) < idx(site)).length / m.length : null;
}

/** One run's mean stored entropy of the memory items at the end of `site` (null: none seen yet). */
export function meanStoredEntropy(run: RunResult, site: string): number | null {
  const m = memoryAt(run, site).filter((it) => it.entropy !== null);
  return m.length ? m.reduce((a, it) => a + it.entropy!, 0) / m.length : null;
}

/** Per strategy: how many memory items at the end of `site` come from earlier sites, and their mean entropy. */
export function memorySummaryRows(results: MethodResults[], site: string): Row[] {
  return results.map((r) => {
    const older = meanSd(r.runs.map((run) => olderShare(run, site)));
    const entropy = meanSd(r.runs.map((run) => meanStoredEntropy(run, site)));
    const sitesHeld = meanSd(r.runs.map((run) => new Set(memoryAt(run, site).map((it) => it.site)).size));
    return {
      strategy: r.method,
      site,
      "share from earlier sites": fmt(older),
      "distinct sites held": fmt(sitesHeld),
      "mean stored entropy": fmt(entropy),
      "older share mean": older.mean,
      "entropy mean": entropy.mean,
    };
  });
}
