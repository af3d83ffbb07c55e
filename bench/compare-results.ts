/**
 * Two sets of per-run results (e.g. results/mini of two commits) compared run by run: the runs are matched
 * on their name without the settings hash (strategy, memory, sampling rate, seed), and each quantity is
 * printed as the paired difference new − old over the matched runs with its 95% interval.
 *
 *   node dist/bench/compare-results.js <old results dir> <new results dir>
 *
 * Used for the mini learning-rate change (docs/sizing.md, "Learning rate"); runs of one seed share an
 * initialisation, so the interval over runs is a guide, not a test over seeds.
 */
import { existsSync, readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { pairedDifference } from "../src/eval/paired.js";

interface FinalSummary {
  organAverage: number | null;
  perClass: Record<string, { mean: number }>;
}

/** run name without its settings hash -> final summary. */
function loadRuns(dir: string): Map<string, FinalSummary> {
  if (!existsSync(dir)) throw new Error(`compare-results: ${dir}: no such folder`);
  const runs = new Map<string, FinalSummary>();
  for (const f of readdirSync(dir).filter((f) => f.endsWith(".json"))) {
    const file = join(dir, f);
    const r = JSON.parse(readFileSync(file, "utf8")) as { final?: FinalSummary };
    if (!r.final?.perClass) throw new Error(`compare-results: ${file}: not a per-run result (no final.perClass)`);
    runs.set(f.replace(/-[0-9a-f]{10}\.json$/, ""), r.final);
  }
  return runs;
}

const CLASSES: [string, string][] = [
  ["1", "Spleen"],
  ["2", "Right Kidney"],
  ["3", "Left Kidney"],
  ["6", "Liver"],
  ["7", "Stomach"],
  ["11", "Pancreas"],
];

function main(): void {
  const [oldDir, newDir] = process.argv.slice(2);
  if (!oldDir || !newDir) throw new Error("usage: node dist/bench/compare-results.js <old results dir> <new results dir>");
  const before = loadRuns(oldDir);
  const after = loadRuns(newDir);
  const names = [...after.keys()].filter((k) => before.has(k)).sort();
  console.log(`${names.length} runs in both (${after.size} new, ${before.size} old); new − old, mean [95% interval]`);
  const fmt = (x: number) => `${x >= 0 ? "+" : ""}${x.toFixed(3)}`;
  // The experiment a run belongs to: its name before the strategy (single-site, stream).
  for (const set of [...new Set(names.map((n) => n.replace(/-(lm|dm|sm|repeated)-.*$/, "")))]) {
    const runs = names.filter((n) => n.startsWith(`${set}-`));
    const show = (label: string, get: (f: FinalSummary) => number | null) => {
      const d = pairedDifference(runs.map((n) => [get(after.get(n)!), get(before.get(n)!)] as const));
      const interval = d.lo === null || d.hi === null ? "no interval" : `[${fmt(d.lo)}, ${fmt(d.hi)}]`;
      console.log(`  ${`${set} ${label}`.padEnd(36)} ${d.n} runs  ${d.mean === null ? "-" : fmt(d.mean)} ${interval}`);
    };
    show("organ average", (f) => f.organAverage);
    for (const [id, name] of CLASSES) show(name, (f) => f.perClass[id]?.mean ?? null);
    show("classes at Dice >= 0.5", (f) => Object.values(f.perClass).filter((c) => c.mean >= 0.5).length);
  }
}

try {
  main();
} catch (e) {
  console.error((e as Error).message);
  process.exitCode = 1;
}
