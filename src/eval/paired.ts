/**
 * Paired comparisons over seeds: the runs of one seed share data and initialisation, so a claim "A beats
 * B" is judged on the per-seed differences A - B, with a Student-t 95% interval for their mean, and a
 * verdict read off that interval: supported (all of it on the claim's side), contradicted (all of it on
 * the other side), undecided (it straddles the line, or fewer than two seeds).
 */
import { tQuantile } from "./student-t.js";

export interface PairedDifference {
  /** Seeds with a value on both sides (the others are left out). */
  n: number;
  /** Mean of the per-seed differences a - b; null when n = 0. */
  mean: number | null;
  /** Sample sd of the differences; null when n < 2. */
  sd: number | null;
  /** The 95% interval of the mean difference; null when n < 2 (no spread to estimate). */
  lo: number | null;
  hi: number | null;
}

/** The differences a - b over pairs (one pair per seed); a pair with a missing value on either side is left out. */
export function pairedDifference(pairs: readonly (readonly [number | null, number | null])[], level = 0.95): PairedDifference {
  const d = pairs.filter((p): p is [number, number] => p[0] !== null && p[1] !== null && Number.isFinite(p[0]) && Number.isFinite(p[1])).map(([a, b]) => a - b);
  const n = d.length;
  if (n === 0) return { n, mean: null, sd: null, lo: null, hi: null };
  const mean = d.reduce((s, x) => s + x, 0) / n;
  if (n < 2) return { n, mean, sd: null, lo: null, hi: null };
  const sd = Math.sqrt(d.reduce((s, x) => s + (x - mean) ** 2, 0) / (n - 1));
  const half = tQuantile(1 - (1 - level) / 2, n - 1) * (sd / Math.sqrt(n));
  return { n, mean, sd, lo: mean - half, hi: mean + half };
}

export type Verdict = "supported" | "contradicted" | "undecided";

/**
 * The verdict on the claim "mean difference > threshold": threshold 0 for "A beats B", -margin for "A is
 * not worse than B by more than margin" (non-inferiority).
 */
export function verdictAbove(d: PairedDifference, threshold = 0): Verdict {
  if (d.lo === null || d.hi === null) return "undecided";
  if (d.lo > threshold) return "supported";
  if (d.hi < threshold) return "contradicted";
  return "undecided";
}

/** Several comparisons that a claim needs all of: contradicted when any is, supported when all are. */
export function verdictAll(verdicts: readonly Verdict[]): Verdict {
  if (verdicts.includes("contradicted")) return "contradicted";
  return verdicts.length > 0 && verdicts.every((v) => v === "supported") ? "supported" : "undecided";
}

/**
 * The verdict on "the two sides agree within margin" (|mean difference| < margin): supported when the whole
 * interval lies inside (-margin, margin), contradicted when it lies wholly beyond one end, else undecided.
 */
export function verdictWithin(d: PairedDifference, margin: number): Verdict {
  if (d.lo === null || d.hi === null) return "undecided";
  if (d.lo > -margin && d.hi < margin) return "supported";
  if (d.lo >= margin || d.hi <= -margin) return "contradicted";
  return "undecided";
}
