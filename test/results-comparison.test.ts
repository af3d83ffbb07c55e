import { test } from "node:test";
import assert from "node:assert/strict";
import { compareResults } from "../bench/results-comparison.js";
import type { RunResult, RunSpec } from "../src/experiments/runs.js";

function run(dataset: RunSpec["dataset"], seed: number, organ: number, lr: number): RunResult {
  const spec: RunSpec = { dataset, strategy: "lm", memory: 8, samplingRate: 6, topOneInK: 4, epochs: 1, seed };
  const perClass = { 1: { mean: organ, cases: 2 }, 2: { mean: 0.4, cases: 2 } };
  // The key's hash differs with the settings (here the lr): matching must ignore it.
  return { key: `x-${lr}`, spec, final: { perClass, organAverage: organ, tumorAverage: null, average: organ } } as unknown as RunResult;
}

test("results comparison: runs matched on their name whatever the settings hash, paired new − old per experiment", () => {
  const before = [run("stream", 1, 0.5, 2e-3), run("stream", 2, 0.6, 2e-3), run("stream", 3, 0.7, 2e-3), run("single-site", 1, 0.8, 2e-3)];
  // Differences 0, 0.02, 0.01 on the stream: mean 0.01, sd 0.01, t(0.975, 2) = 4.303 -> [-0.015, +0.035].
  const after = [run("stream", 1, 0.5, 1e-3), run("stream", 2, 0.62, 1e-3), run("stream", 3, 0.71, 1e-3), run("stream", 4, 0.9, 1e-3)];
  const lines = compareResults(before, after);
  assert.match(lines[0], /^3 runs in both \(4 new, 4 old\)/);
  assert.match(
    lines.find((l) => l.includes("stream organ average"))!,
    /3 runs {2}\+0\.010 \[-0\.015, \+0\.035\]$/,
  );
  assert.match(
    lines.find((l) => l.includes("stream Spleen"))!,
    /\+0\.010/,
  );
  assert.match(
    lines.find((l) => l.includes("stream Left Kidney"))!,
    /0 runs {2}- no interval$/,
    "a class absent on both sides is left out",
  );
  assert.match(
    lines.find((l) => l.includes("stream classes at Dice >= 0.5"))!,
    /\+0\.000/,
  );
  assert.ok(!lines.some((l) => l.includes("single-site")), "an experiment with no run on the new side is not printed");
});
