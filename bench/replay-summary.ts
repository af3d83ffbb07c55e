/**
 * What bench/replay.ts writes per replay, and the comparison it prints: per trace, each arm's organ
 * averages over its draws (the perturbations), the spread rounding alone makes, and each arm against the
 * first as a paired difference over the traces with its 95% interval.
 */
import { basename } from "node:path";
import { pairedDifference } from "../src/eval/paired.js";

/** What one replay writes. */
export interface ReplayResult {
  trace: string;
  arm: string;
  fused: string;
  perturb: number;
  organAverage: number | null;
  perClass: Record<string, number>;
  /** Mean over the second half of the steps of (replay loss - the trace's loss). */
  lateLossGap: number;
  /** Largest |replay loss - trace loss| over the first 20 steps (0 when the arm recorded the trace and p = 0); null if not recorded. */
  earlyLossGap: number | null;
  steps: number;
  seconds: number;
  /** Set when the result was made by something other than bench/replay.ts (what, and that it computes the same). */
  source?: string;
}

/** Per trace, each arm's mean organ average over its draws; the paired difference of every arm against the first. */
export function summarise(results: ReplayResult[], traces: string[], arms: string[]): string[] {
  const lines: string[] = [];
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
  const draws = (trace: string, arm: string) =>
    results.filter((r) => r.trace === trace && r.arm === arm && r.organAverage !== null).map((r) => r.organAverage as number);
  lines.push(`organ average per draw (perturbations in the order given), mean per arm:`);
  const armText = (t: string, a: string) => {
    const d = draws(t, a);
    return d.length ? `${a} ${d.map((x) => x.toFixed(3)).join(" ")} (mean ${mean(d).toFixed(3)})` : `${a} none`;
  };
  for (const t of traces) lines.push(`  ${basename(t)}: ${arms.map((a) => armText(t, a)).join("; ")}`);
  // The spread a rounding change alone makes: the sd of the draws of one trace and arm, pooled.
  let ss = 0,
    df = 0;
  for (const t of traces)
    for (const a of arms) {
      const d = draws(t, a);
      if (d.length < 2) continue;
      const m = mean(d);
      ss += d.reduce((s, x) => s + (x - m) ** 2, 0);
      df += d.length - 1;
    }
  if (df > 0) lines.push(`spread of one run from rounding alone (pooled sd of the draws): ${Math.sqrt(ss / df).toFixed(3)} organ average`);
  const fmt = (x: number | null) => (x === null ? "n/a" : `${x >= 0 ? "+" : ""}${x.toFixed(3)}`);
  for (const a of arms.slice(1)) {
    const d = pairedDifference(traces.map((t) => [draws(t, a).length ? mean(draws(t, a)) : null, draws(t, arms[0]).length ? mean(draws(t, arms[0])) : null]));
    lines.push(`${a} - ${arms[0]} (per trace, mean over draws): ${fmt(d.mean)}, 95% interval [${fmt(d.lo)}, ${fmt(d.hi)}], ${d.n} traces`);
  }
  return lines;
}
