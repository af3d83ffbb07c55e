/**
 * Two sets of per-run results compared run by run (bench/compare-results.ts prints it): runs are matched on
 * their name without the settings hash (`runName`: experiment, strategy, sizes, seed), and each quantity is
 * the paired difference new − old over the matched runs of one experiment, with its 95% interval. Runs of
 * one seed share an initialisation, so the interval over runs is a guide, not a test over seeds.
 */
import { className } from "../src/data/ontology.js";
import type { DiceSummary } from "../src/eval/dice.js";
import { pairedDifference } from "../src/eval/paired.js";
import { runName, type RunResult } from "../src/experiments/runs.js";

/** The classes printed one by one: the Table 1 target's five organs and the pancreas. */
const CLASSES = [1, 2, 3, 6, 7, 11];

const signed = (x: number) => `${x >= 0 ? "+" : ""}${x.toFixed(3)}`;

export function compareResults(before: readonly RunResult[], after: readonly RunResult[]): string[] {
  const old = new Map(before.map((r) => [runName(r.spec), r.final]));
  const matched = after.filter((r) => old.has(runName(r.spec)));
  const lines = [`${matched.length} runs in both (${after.length} new, ${before.length} old); new − old, mean [95% interval]`];
  for (const dataset of [...new Set(matched.map((r) => r.spec.dataset))]) {
    const runs = matched.filter((r) => r.spec.dataset === dataset);
    const row = (label: string, get: (f: DiceSummary) => number | null) => {
      const d = pairedDifference(runs.map((r) => [get(r.final), get(old.get(runName(r.spec))!)] as const));
      const interval = d.lo === null || d.hi === null ? "no interval" : `[${signed(d.lo)}, ${signed(d.hi)}]`;
      lines.push(`  ${`${dataset} ${label}`.padEnd(36)} ${d.n} runs  ${d.mean === null ? "-" : signed(d.mean)} ${interval}`);
    };
    row("organ average", (f) => f.organAverage);
    for (const id of CLASSES) row(className(id), (f) => f.perClass[id]?.mean ?? null);
    row("classes at Dice >= 0.5", (f) => Object.values(f.perClass).filter((c) => c.mean >= 0.5).length);
  }
  return lines;
}
