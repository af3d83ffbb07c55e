/**
 * Figure 2's forgetting numbers, computed once for the figure, notebook 03's table and REPORT.md: the
 * relative Dice drop on an evaluated site k after each later site, per run, and its mean over the later
 * sites. A drop relative to a Dice of 0 is not defined (null): left out of means, never counted as 0.
 */
import { SITES } from "../data/ontology.js";
import { relativeDiceDrop } from "../eval/dice.js";
import type { ForgettingPanel } from "../report/plots.js";
import type { Row } from "../report/tables.js";
import type { MethodResults } from "./results.js";
import type { RunResult } from "./runs.js";
import type { ExperimentSettings } from "./settings.js";
import { meanSd, strategyName } from "./table-rows.js";

const order = (site: string) => SITES.findIndex((x) => x.id === site);

/** One run's relative drop on site k after k itself (0) and after each later site; null where not defined. */
export function relativeDrops(run: RunResult, k: string): { site: string; drop: number | null }[] {
  const at = (j: string) => run.siteEnds.find((e) => e.site === j)?.dice[k] ?? null;
  const base = at(k);
  return SITES.filter((x) => order(x.id) >= order(k)).map((x) => {
    const d = at(x.id);
    return { site: x.id, drop: base === null || d === null ? null : relativeDiceDrop(d, base) };
  });
}

/** One run's mean relative drop over the sites after each of `sites`; null when none is defined. */
export function meanRelativeDrop(run: RunResult, sites: readonly string[]): number | null {
  const drops = sites
    .flatMap((k) =>
      relativeDrops(run, k)
        .slice(1)
        .map((x) => x.drop),
    )
    .filter((v): v is number => v !== null);
  return drops.length ? drops.reduce((a, b) => a + b, 0) / drops.length : null;
}

/** Figure 2: per evaluated site, each strategy's drop after every later site (mean and sd over seeds). */
export function forgettingPanels(s: ExperimentSettings, results: MethodResults[]): ForgettingPanel[] {
  return s.forgettingSites.map((k) => ({
    site: k,
    series: results.map((r) => {
      const perSeed = r.runs.map((run) => relativeDrops(run, k));
      const sites = SITES.filter((x) => order(x.id) >= order(k)).map((x) => x.id);
      const stats = sites.map((_, i) => meanSd(perSeed.map((p) => p[i]?.drop ?? null)));
      return {
        strategy: strategyName(r.method),
        sites,
        mean: stats.map((x) => x.mean ?? NaN),
        sd: stats.map((x) => x.sd ?? 0),
        undefinedAt: sites.filter((_, i) => stats[i].mean === null),
      };
    }),
  }));
}

const show = (m: { mean: number | null; sd: number | null }) =>
  m.mean === null ? "not defined" : m.sd === null ? m.mean.toFixed(3) : `${m.mean.toFixed(3)} ± ${m.sd.toFixed(3)}`;

/** Notebook 03's table: per evaluated site and strategy, the mean drop over later sites, and the drop after the last site. */
export function forgettingRows(s: ExperimentSettings, results: MethodResults[]): Row[] {
  const last = SITES[SITES.length - 1].id;
  return s.forgettingSites.flatMap((k) =>
    results.map((r) => {
      const mean = meanSd(r.runs.map((run) => meanRelativeDrop(run, [k])));
      const after = meanSd(r.runs.map((run) => relativeDrops(run, k).find((x) => x.site === last)?.drop ?? null));
      const undefinedAt = forgettingPanels({ ...s, forgettingSites: [k] }, [r])[0].series[0].undefinedAt ?? [];
      return {
        "evaluated site": k,
        strategy: strategyName(r.method),
        "mean relative drop (mean ± sd over seeds)": show(mean),
        [`drop after ${last}`]: show(after),
        "seeds with a defined drop": mean.n,
        "not defined after": undefinedAt.join(" "),
        "mean drop": mean.mean,
      };
    }),
  );
}
