import { test } from "node:test";
import assert from "node:assert/strict";
import { summarise, type ReplayResult } from "../bench/replay-summary.js";

function result(trace: string, arm: string, perturb: number, organAverage: number): ReplayResult {
  return { trace, arm, fused: arm, perturb, organAverage, perClass: {}, lateLossGap: 0, earlyLossGap: 0, steps: 1, seconds: 1 };
}

test("replay summary: per-trace means over draws, the pooled spread, and each arm against the first, paired over traces", () => {
  // Three traces; the second arm is the first plus 0.01 on average, with different offsets per trace.
  const base = { t1: 0.6, t2: 0.7, t3: 0.65 };
  const shift = { t1: 0.0, t2: 0.02, t3: 0.01 };
  const results: ReplayResult[] = [];
  for (const [t, b] of Object.entries(base)) {
    // Each arm's two draws differ by 0.02: the sd of each pair is 0.02 / sqrt(2).
    results.push(result(t, "op", 0, b), result(t, "op", 1e-4, b + 0.02));
    const s = shift[t as keyof typeof shift];
    results.push(result(t, "fused", 0, b + s), result(t, "fused", 1e-4, b + s + 0.02));
  }
  const lines = summarise(results, ["t1", "t2", "t3"], ["op", "fused"]);
  assert.match(lines[1], /^ {2}t1: op 0\.600 0\.620 \(mean 0\.610\); fused 0\.600 0\.620 \(mean 0\.610\)$/);
  assert.match(lines[2], /t2: op 0\.700 0\.720 \(mean 0\.710\); fused 0\.720 0\.740 \(mean 0\.730\)/);
  assert.ok(lines.some((l) => l.includes(`pooled sd of the draws): ${(0.02 / Math.SQRT2).toFixed(3)}`)));
  const paired = lines.find((l) => l.startsWith("fused - op"));
  assert.ok(paired, lines.join("\n"));
  // Differences 0, 0.02, 0.01: mean 0.01, sd 0.01, t(0.975, 2) = 4.303 -> half-width 0.0248.
  assert.match(paired!, /\+0\.010, 95% interval \[-0\.015, \+0\.035\], 3 traces/);
});

test("replay summary: a trace with no draws in one arm is left out of the paired difference", () => {
  const results = [result("a", "op", 0, 0.5), result("a", "fused", 0, 0.6), result("b", "op", 0, 0.5)];
  const paired = summarise(results, ["a", "b"], ["op", "fused"]).find((l) => l.startsWith("fused - op"));
  assert.match(paired!, /\+0\.100, 95% interval \[n\/a, n\/a\], 1 traces/);
});
