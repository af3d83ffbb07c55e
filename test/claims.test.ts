import { test } from "node:test";
import assert from "node:assert/strict";
import { SITES } from "../src/data/ontology.js";
import { relativeDiceDrop } from "../src/eval/dice.js";
import { pairedDifference, verdictAbove, verdictAll, verdictWithin } from "../src/eval/paired.js";
import { tCdf, tQuantile } from "../src/eval/student-t.js";
import { forgettingClaims } from "../src/experiments/claims.js";
import { forgettingRows, meanRelativeDrop } from "../src/experiments/forgetting.js";
import { EXPERIMENT_NOTEBOOKS, F2, F3, plannedRuns, T1, T2 } from "../src/experiments/plan.js";
import { describeDifference } from "../src/experiments/report-md.js";
import { loadMethods, MissingRunsError, type MethodResults } from "../src/experiments/results.js";
import type { RunResult } from "../src/experiments/runs.js";
import { experimentSettings } from "../src/experiments/settings.js";
import { tempDir } from "./helpers.js";

const near = (a: number, b: number, tol: number, what: string) => assert.ok(Math.abs(a - b) <= tol, `${what}: ${a} vs ${b}`);

test("t quantiles match the tables (95% two-sided: t_0.975)", () => {
  // Known values of Student's t, e.g. R's qt(0.975, df).
  const known: [number, number][] = [
    [1, 12.7062],
    [2, 4.3027],
    [3, 3.1824],
    [4, 2.7764],
    [9, 2.2622],
    [30, 2.0423],
    [1000, 1.9623],
  ];
  for (const [df, t] of known) near(tQuantile(0.975, df), t, 5e-5, `t_0.975 with ${df} df`);
  near(tQuantile(0.95, 4), 2.1318, 5e-5, "t_0.95 with 4 df");
  near(tQuantile(0.025, 4), -2.7764, 5e-5, "lower tail is the mirror");
  near(tCdf(0, 7), 0.5, 1e-12, "CDF at 0");
  near(tCdf(2.7764451, 4), 0.975, 1e-7, "CDF inverts the quantile");
  assert.throws(() => tQuantile(1, 4), /p must be in \(0, 1\)/);
});

test("paired difference: mean, sd and the Student-t 95% interval; missing seeds left out", () => {
  const a = [1, 2, 3, 4, 5];
  const b = [0.5, 1, 2.5, 3, 4.5];
  const d = pairedDifference(a.map((x, i) => [x, b[i]] as const));
  assert.equal(d.n, 5);
  near(d.mean!, 0.7, 1e-12, "mean");
  near(d.sd!, Math.sqrt(0.075), 1e-12, "sd");
  const half = 2.7764451 * (Math.sqrt(0.075) / Math.sqrt(5));
  near(d.lo!, 0.7 - half, 1e-6, "lower end");
  near(d.hi!, 0.7 + half, 1e-6, "upper end");
  // A seed with a value missing on either side is not paired.
  const gaps = pairedDifference([
    [1, 0],
    [null, 0],
    [2, null],
    [3, 1],
  ]);
  assert.equal(gaps.n, 2);
  near(gaps.mean!, 1.5, 1e-12, "mean over the two complete pairs");
  assert.deepEqual(pairedDifference([]), { n: 0, mean: null, sd: null, lo: null, hi: null });
});

test("verdicts: supported, contradicted, undecided from the interval; one seed is undecided", () => {
  const better = pairedDifference([
    [0.5, 0.4],
    [0.6, 0.45],
    [0.55, 0.5],
    [0.52, 0.41],
    [0.58, 0.5],
  ]);
  assert.equal(verdictAbove(better), "supported");
  const worse = pairedDifference([
    [0.4, 0.5],
    [0.45, 0.6],
    [0.5, 0.55],
    [0.41, 0.52],
    [0.5, 0.58],
  ]);
  assert.equal(verdictAbove(worse), "contradicted");
  const mixed = pairedDifference([
    [0.5, 0.4],
    [0.4, 0.5],
    [0.5, 0.45],
    [0.45, 0.5],
    [0.5, 0.5],
  ]);
  assert.equal(verdictAbove(mixed), "undecided");
  // One seed: a difference but no interval, so no verdict.
  const one = pairedDifference([[0.9, 0.1]]);
  assert.equal(one.n, 1);
  assert.equal(one.lo, null);
  assert.equal(verdictAbove(one), "undecided");
  assert.match(describeDifference(one), /from one seed: no interval/);
  // Equal in every seed: neither beats the other; but "not worse by more than 0.02" holds.
  const tie = pairedDifference([
    [0.3, 0.3],
    [0.2, 0.2],
    [0.1, 0.1],
  ]);
  assert.equal(verdictAbove(tie), "undecided");
  assert.equal(verdictAbove(tie, -0.02), "supported");
  // Non-inferiority: slightly worse but well within the margin.
  const close = pairedDifference([
    [0.49, 0.5],
    [0.5, 0.51],
    [0.485, 0.495],
    [0.6, 0.61],
    [0.3, 0.31],
  ]);
  assert.equal(verdictAbove(close), "contradicted");
  assert.equal(verdictAbove(close, -0.02), "supported");
  assert.equal(verdictAll(["supported", "supported"]), "supported");
  assert.equal(verdictAll(["supported", "undecided"]), "undecided");
  assert.equal(verdictAll(["supported", "contradicted"]), "contradicted");
  assert.equal(verdictAll([]), "undecided");
});

/** A stream run whose Dice on D8 after each site is given (other forgetting sites: none evaluated). */
function fakeRun(seed: number, diceOnD8: (site: string) => number | null): RunResult {
  const at8 = SITES.findIndex((x) => x.id === "D8");
  return {
    spec: { seed },
    final: { average: 0.2, perClass: {} },
    siteEnds: SITES.map((s, i) => ({ site: s.id, it: i, memory: [], dice: i >= at8 ? { D8: diceOnD8(s.id) } : {} })),
  } as unknown as RunResult;
}

test("a 0/0 relative drop is 'not defined', never 'no forgetting' (0), in the rows and the verdict", () => {
  assert.equal(relativeDiceDrop(0, 0), null);
  assert.equal(relativeDiceDrop(0.2, 0), null);
  const s = { ...experimentSettings("smoke"), seeds: [1, 2, 3], forgettingSites: ["D8"] };
  const zero = (seed: number) => fakeRun(seed, () => 0);
  const forgets = (seed: number) => fakeRun(seed, (site) => (site === "D8" ? 0.5 : 0.4 - seed * 0.01));
  assert.equal(meanRelativeDrop(zero(1), ["D8"]), null, "all drops 0/0: not defined, not 0");
  near(meanRelativeDrop(forgets(1), ["D8"])!, (0.39 - 0.5) / 0.5, 1e-12, "a defined drop");
  const results: MethodResults[] = [
    { method: "LM", runs: [1, 2, 3].map(zero) },
    { method: "DM", runs: [1, 2, 3].map(forgets) },
  ];
  const rows = forgettingRows(s, results);
  const lm = rows.find((r) => r.strategy === "LM")!;
  assert.equal(lm["mean relative drop (mean ± sd over seeds)"], "not defined");
  assert.equal(lm["seeds with a defined drop"], 0);
  assert.match(String(lm["not defined after"]), /D9/);
  const [claim] = forgettingClaims(s, results);
  assert.equal(claim.comparisons[0].diff.n, 0);
  assert.equal(claim.verdict, "undecided");
  assert.match(describeDifference(claim.comparisons[0].diff), /not defined/);
});

test("the mini profile judges claims over five seeds", () => {
  assert.deepEqual(experimentSettings("mini").seeds, [1, 2, 3, 4, 5]);
});

test("run planning lists each run the notebooks need once; the figures reuse Table 2's runs", () => {
  for (const profile of ["smoke", "mini"] as const) {
    const s = experimentSettings(profile);
    const all = plannedRuns(s);
    const keys = all.map((r) => r.key);
    assert.equal(new Set(keys).size, keys.length, `${profile}: a run planned twice`);
    // Table 1: 3 memory sizes + repeated; Table 2: LM, DM, 3 SM, repeated; one run per seed each.
    const perSeed = s.table1.memorySizes.length + 1 + 2 + s.table2.topOneInKs.length + 1;
    assert.equal(all.length, perSeed * s.seeds.length, `${profile}: plan size`);
    const t2 = new Set(plannedRuns(s, [T2]).map((r) => r.key));
    for (const r of plannedRuns(s, [F2, F3])) assert.ok(t2.has(r.key), `${r.key}: a figure run that Table 2 does not have`);
    assert.equal(plannedRuns(s, [F2, F3]).length, 3 * s.seeds.length);
    assert.equal(plannedRuns(s, [T1]).length, (s.table1.memorySizes.length + 1) * s.seeds.length);
    assert.deepEqual(
      plannedRuns(s, EXPERIMENT_NOTEBOOKS).map((r) => r.key),
      keys,
    );
    for (const r of all) assert.ok(r.key.includes(`-seed${r.spec.seed}-`), r.key);
  }
});

test("a notebook's missing runs are an error naming them and the command that trains them", () => {
  const s = { ...experimentSettings("smoke"), resultsDir: tempDir("massive-results-") };
  const methods = [{ label: "LM", spec: { dataset: "stream" as const, strategy: "lm" as const, memory: 4, samplingRate: 1, topOneInK: 4, epochs: 1 } }];
  assert.throws(
    () => loadMethods(s, methods, ["03-figure2-forgetting"]),
    (e: unknown) =>
      e instanceof MissingRunsError &&
      e.missing.length === 1 &&
      /stream-lm-n4-s1-seed1-/.test(e.message) &&
      /`npm run reproduce -- --profile smoke --only 03` trains the missing runs/.test(e.message) &&
      /never train/.test(e.message),
  );
});

test("agreement within a margin: inside, beyond, or straddling its ends", () => {
  const close = pairedDifference([
    [0.61, 0.6],
    [0.7, 0.71],
    [0.65, 0.64],
    [0.66, 0.66],
  ]);
  assert.equal(verdictWithin(close, 0.05), "supported");
  // A steady gap of about 0.2: the interval lies wholly above the margin.
  const apart = pairedDifference([
    [0.8, 0.6],
    [0.85, 0.64],
    [0.9, 0.7],
  ]);
  assert.equal(verdictWithin(apart, 0.05), "contradicted");
  const below = pairedDifference([
    [0.6, 0.8],
    [0.64, 0.85],
    [0.7, 0.9],
  ]);
  assert.equal(verdictWithin(below, 0.05), "contradicted", "the same gap the other way");
  // Noisy pairs centred on zero: the interval reaches past the margin, so no verdict.
  const noisy = pairedDifference([
    [0.9, 0.6],
    [0.6, 0.9],
    [0.7, 0.72],
  ]);
  assert.equal(verdictWithin(noisy, 0.05), "undecided");
  assert.equal(verdictWithin(pairedDifference([[0.6, 0.6]]), 0.05), "undecided", "one pair has no interval");
});
