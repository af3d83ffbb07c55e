/**
 * The paper's claims, each judged on paired differences over seeds (the strategies of one seed share data
 * and initialisation): the mean difference, its 95% Student-t interval, and a verdict from that interval
 * (src/eval/paired.ts). REPORT.md and the notebooks' closing cells both show these; nothing else judges.
 */
import { pairedDifference, verdictAbove, verdictAll, type PairedDifference, type Verdict } from "../eval/paired.js";
import { meanRelativeDrop } from "./forgetting.js";
import { F2, F3, T1, T2 } from "./plan.js";
import type { MethodResults } from "./results.js";
import type { RunResult } from "./runs.js";
import type { ExperimentSettings } from "./settings.js";
import { meanStoredEntropy, olderShare, strategyName } from "./table-rows.js";

/**
 * "About as good" / "matches or beats": not worse by more than this much Average Dice. The paper's own
 * LM-vs-repeated gaps in Table 1 are at most 0.0043; 0.02 is a small fraction of any Dice it reports.
 */
export const NON_INFERIORITY_MARGIN = 0.02;

export interface Comparison {
  /** e.g. "DM − LM" */
  label: string;
  diff: PairedDifference;
  /** The claim wants the mean difference above this: 0 for "beats", −margin for "not worse by more than margin". */
  threshold: number;
  verdict: Verdict;
}

export interface Claim {
  /** e.g. "2a" */
  id: string;
  notebook: string;
  statement: string;
  comparisons: Comparison[];
  verdict: Verdict;
  /** What the numbers compared are, when not the Average Dice. */
  measure: string;
}

/** One run's value for each seed of the profile, a pair per seed (a seed missing on either side: null). */
function pairsBySeed(s: ExperimentSettings, a: MethodResults, b: MethodResults, value: (run: RunResult) => number | null): [number | null, number | null][] {
  const at = (m: MethodResults, seed: number) => {
    const run = m.runs.find((r) => r.spec.seed === seed);
    return run ? value(run) : null;
  };
  return s.seeds.map((seed) => [at(a, seed), at(b, seed)]);
}

function compare(
  s: ExperimentSettings,
  a: MethodResults,
  b: MethodResults,
  value: (run: RunResult) => number | null,
  threshold = 0,
  names = strategyName,
): Comparison {
  const diff = pairedDifference(pairsBySeed(s, a, b, value));
  return { label: `${names(a.method)} − ${names(b.method)}`, diff, threshold, verdict: verdictAbove(diff, threshold) };
}

function claim(id: string, notebook: string, statement: string, measure: string, comparisons: Comparison[]): Claim {
  return { id, notebook, statement, measure, comparisons, verdict: verdictAll(comparisons.map((c) => c.verdict)) };
}

const average = (run: RunResult) => run.final.average;
const method = (results: MethodResults[], name: string) => {
  const m = results.find((r) => r.method === name || (name === "Repeated" && r.method.startsWith("Repeated")));
  if (!m) throw new Error(`no results for ${name} (have ${results.map((r) => r.method).join(", ")})`);
  return m;
};

/** Claim 1 (Table 1): on one site, LM at every memory size is about as good as the repeated-epochs baseline. */
export function table1Claims(s: ExperimentSettings, t1: MethodResults[]): Claim[] {
  const rep = method(t1, "Repeated");
  const lms = t1.filter((r) => r !== rep);
  return [
    claim(
      "1",
      T1,
      `LM is about as good as ${rep.method.toLowerCase()} on one site, at every memory size (not worse by more than ${NON_INFERIORITY_MARGIN})`,
      "Average Dice",
      lms.map((lm) => compare(s, lm, rep, average, -NON_INFERIORITY_MARGIN, (x) => x.replace(/ \(.*\)$/, ""))),
    ),
  ];
}

/** Claims 2 and 3 (Table 2): DM > LM, SM > DM, SM ≥ repeated; the top 25% beats 12.5% and 50%. */
export function table2Claims(s: ExperimentSettings, t2: MethodResults[]): Claim[] {
  const lm = method(t2, "LM"),
    dm = method(t2, "DM"),
    sm = method(t2, "SM top 25%"),
    rep = method(t2, "Repeated");
  const others = t2.filter((r) => r.method.startsWith("SM") && r !== sm);
  const full = (x: string) => x.replace(/ \(.*\)$/, "");
  return [
    claim("2a", T2, "DM beats LM on the stream", "Average Dice", [compare(s, dm, lm, average)]),
    claim("2b", T2, "SM (top 25%) beats DM on the stream", "Average Dice", [compare(s, sm, dm, average)]),
    claim("2c", T2, `SM (top 25%) matches or beats ${full(rep.method).toLowerCase()} (not worse by more than ${NON_INFERIORITY_MARGIN})`, "Average Dice", [
      compare(s, sm, rep, average, -NON_INFERIORITY_MARGIN, full),
    ]),
    claim(
      "3",
      T2,
      "protecting the top 25% most uncertain cases beats 12.5% and 50%",
      "Average Dice",
      others.map((o) => compare(s, sm, o, average, 0, (x) => x)),
    ),
  ];
}

/** Claim 4 (Figure 2): LM forgets most: its mean relative drop is below DM's and SM's. */
export function forgettingClaims(s: ExperimentSettings, online: MethodResults[]): Claim[] {
  const lm = method(online, "LM");
  const drop = (run: RunResult) => meanRelativeDrop(run, s.forgettingSites);
  return [
    claim(
      "4",
      F2,
      "LM forgets most (its relative Dice drop is the most negative)",
      `relative Dice drop, mean over ${s.forgettingSites.join(", ")} and the sites after each`,
      online.filter((r) => r !== lm).map((o) => compare(s, o, lm, drop)),
    ),
  ];
}

/** Claim 5 (Figure 3): SM keeps older and harder cases than LM and DM, at each snapshot site. */
export function memoryClaims(s: ExperimentSettings, online: MethodResults[]): Claim[] {
  const sm = method(online, "SM top 25%");
  const rest = online.filter((r) => r !== sm);
  const at = (site: string, value: (run: RunResult, site: string) => number | null) => (o: MethodResults) => ({
    ...compare(s, sm, o, (run) => value(run, site)),
    label: `${strategyName(sm.method)} − ${strategyName(o.method)} at ${site}`,
  });
  return [
    claim(
      "5a",
      F3,
      "SM keeps more cases from earlier sites than LM and DM",
      "share of memory items from earlier sites",
      s.snapshotSites.flatMap((site) => rest.map(at(site, olderShare))),
    ),
    claim(
      "5b",
      F3,
      "SM keeps harder (more uncertain) cases than LM and DM",
      "mean stored entropy of the memory",
      s.snapshotSites.flatMap((site) => rest.map(at(site, meanStoredEntropy))),
    ),
  ];
}
