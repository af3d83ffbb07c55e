/**
 * The paper's experiments on this kit: which runs each table and figure needs, and how their results
 * become the table rows and figure series (mean +/- sd over seeds), beside the paper's numbers.
 */
import { SITES } from "../data/ontology.js";
import type { ForgettingPanel, MemoryPoint } from "../report/plots.js";
import type { Row } from "../report/tables.js";
import { PAPER_TABLE1, PAPER_TABLE2 } from "./paper-numbers.js";
import type { ExperimentData } from "./data.js";
import { runExperiment, type RunResult, type RunSpec } from "./runs.js";
import type { ExperimentSettings } from "./settings.js";
import { relativeDiceDrop } from "../eval/dice.js";

export interface MethodResults {
  method: string;
  runs: RunResult[];
}

export function meanSd(xs: (number | null)[]): { mean: number | null; sd: number | null; n: number } {
  const v = xs.filter((x): x is number => x !== null && Number.isFinite(x));
  if (v.length === 0) return { mean: null, sd: null, n: 0 };
  const mean = v.reduce((a, b) => a + b, 0) / v.length;
  const sd = v.length > 1 ? Math.sqrt(v.reduce((a, b) => a + (b - mean) ** 2, 0) / (v.length - 1)) : null;
  return { mean, sd, n: v.length };
}

const fmt = (m: { mean: number | null; sd: number | null }) =>
  m.mean === null ? "-" : m.sd === null ? m.mean.toFixed(4) : `${m.mean.toFixed(4)} ± ${m.sd.toFixed(4)}`;

async function runAll(s: ExperimentSettings, dir: string, specs: Omit<RunSpec, "seed">, label: string): Promise<MethodResults> {
  const runs: RunResult[] = [];
  for (const seed of s.seeds) runs.push(await runExperiment(s, dir, { ...specs, seed }));
  return { method: label, runs };
}

/** Table 1: LM at three memory sizes against the repeated-epochs baseline, on the single-site set. */
export async function runTable1(s: ExperimentSettings, data: ExperimentData): Promise<MethodResults[]> {
  const t = s.table1;
  const out: MethodResults[] = [];
  for (const n of t.memorySizes) {
    out.push(await runAll(s, data.singleSite, { dataset: "single-site", strategy: "lm", memory: n, samplingRate: t.samplingRate, topK: 4, epochs: t.epochs }, `LM N=${n}`));
  }
  out.push(await runAll(s, data.singleSite, { dataset: "single-site", strategy: "repeated", memory: 1, samplingRate: 1, topK: 4, epochs: t.epochs }, `Repeated (${t.epochs} epochs)`));
  return out;
}

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

/** The stream's online runs: LM, DM, SM at each top-K; with the forgetting evaluations. */
export function table2OnlineSpecs(s: ExperimentSettings): { label: string; spec: Omit<RunSpec, "seed"> }[] {
  const t = s.table2;
  const base = { dataset: "stream" as const, memory: t.memory, samplingRate: t.samplingRate, epochs: t.epochs, forgettingSites: s.forgettingSites };
  return [
    { label: "LM", spec: { ...base, strategy: "lm", topK: 4 } },
    { label: "DM", spec: { ...base, strategy: "dm", topK: 4 } },
    // Figure 2 needs the forgetting evaluations of LM, DM and SM top 25% only.
    ...t.topKs.map((k) => ({
      label: `SM top ${(100 / k).toFixed(1).replace(/\.0$/, "")}%`,
      spec: { ...base, strategy: "sm" as const, topK: k, forgettingSites: k === 4 ? s.forgettingSites : undefined },
    })),
  ];
}

export async function runTable2(s: ExperimentSettings, data: ExperimentData, only?: string[]): Promise<MethodResults[]> {
  const out: MethodResults[] = [];
  for (const { label, spec } of table2OnlineSpecs(s)) {
    if (only && !only.includes(label)) continue;
    out.push(await runAll(s, data.stream, spec, label));
  }
  if (!only || only.includes("Repeated")) {
    const t = s.table2;
    out.push(await runAll(s, data.stream, { dataset: "stream", strategy: "repeated", memory: 1, samplingRate: 1, topK: 4, epochs: t.epochs }, `Repeated (${t.epochs} epochs)`));
  }
  return out;
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

/** Figure 2: relative Dice drop on each forgetting site after every later site, per strategy. */
export function forgettingPanels(s: ExperimentSettings, results: MethodResults[]): ForgettingPanel[] {
  const order = (site: string) => SITES.findIndex((x) => x.id === site);
  return s.forgettingSites.map((k) => ({
    site: k,
    series: results.map((r) => {
      const later = SITES.map((x) => x.id).filter((j) => order(j) >= order(k));
      const perSeed = r.runs.map((run) => {
        const at = (j: string) => run.siteEnds.find((e) => e.site === j)?.dice[k] ?? null;
        const base = at(k);
        return later.map((j) => {
          const d = at(j);
          // Dice 0 on D_k right after D_k makes the relative drop undefined (0/0, or x/0): a gap, not 0.
          if (base === null || d === null || !(base > 0)) return null;
          return relativeDiceDrop(d, base);
        });
      });
      const stats = later.map((_, i) => meanSd(perSeed.map((p) => p[i])));
      return {
        strategy: r.method.replace(/ top 25%$/, ""),
        sites: later,
        mean: stats.map((x) => x.mean ?? NaN),
        sd: stats.map((x) => x.sd ?? 0),
        undefinedAt: later.filter((_, i) => stats[i].mean === null),
      };
    }),
  }));
}

/**
 * Figure 3: every memory item at the end of `site`, as (source site, entropy), per strategy. The entropy is
 * SM's stored one; for LM/DM it is the kit's monitoring entropy recorded apart from the memory state (the
 * reference's LM/DM store none; see MemorySnapshotItem).
 */
export function memoryPoints(results: MethodResults[], site: string, seed?: number): MemoryPoint[] {
  const pts: MemoryPoint[] = [];
  for (const r of results) {
    const run = seed === undefined ? r.runs[0] : r.runs.find((x) => x.spec.seed === seed);
    const end = run?.siteEnds.find((e) => e.site === site);
    for (const it of end?.memory ?? []) if (it.entropy !== null) pts.push({ strategy: r.method.replace(/ top 25%$/, ""), site: it.site, entropy: it.entropy });
  }
  return pts;
}

/** Per strategy: how many memory items at the end of `site` come from earlier sites, and their mean entropy. */
export function memorySummaryRows(results: MethodResults[], site: string): Row[] {
  const idx = (x: string) => SITES.findIndex((s) => s.id === x);
  return results.map((r) => {
    const olderShare = meanSd(
      r.runs.map((run) => {
        const m = run.siteEnds.find((e) => e.site === site)?.memory ?? [];
        return m.length ? m.filter((it) => idx(it.site) < idx(site)).length / m.length : null;
      }),
    );
    const entropy = meanSd(
      r.runs.map((run) => {
        const m = (run.siteEnds.find((e) => e.site === site)?.memory ?? []).filter((it) => it.entropy !== null);
        return m.length ? m.reduce((a, it) => a + it.entropy!, 0) / m.length : null;
      }),
    );
    const sitesHeld = meanSd(r.runs.map((run) => new Set((run.siteEnds.find((e) => e.site === site)?.memory ?? []).map((it) => it.site)).size));
    return {
      strategy: r.method,
      site,
      "share from earlier sites": fmt(olderShare),
      "distinct sites held": fmt(sitesHeld),
      "mean stored entropy": fmt(entropy),
      "older share mean": olderShare.mean,
      "entropy mean": entropy.mean,
    };
  });
}
