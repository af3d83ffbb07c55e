import { test } from "node:test";
import assert from "node:assert/strict";
import { dice, relativeDiceDrop, summariseDice } from "../src/eval/dice.js";
import { gaussianImportance, windowStarts } from "../src/eval/sliding-window.js";

test("Dice by hand (the reference's 2|P n G| / (|P| + |G| + 1))", () => {
  assert.equal(dice([1, 1, 0, 0], [1, 0, 1, 0]), 0.4);
  assert.equal(dice([1, 1], [1, 1]), 0.8);
  assert.equal(dice([0, 0], [1, 1]), 0);
});

test("aggregation: per class over the cases that have it; organ, tumour and overall averages", () => {
  const s = summariseDice([
    { caseId: "a", site: "D1", dice: { 6: 0.9, 1: 0.5 } },
    { caseId: "b", site: "D1", dice: { 6: 0.7, 27: 0.2 } },
    { caseId: "c", site: "D4", dice: { 27: 0.4 } },
  ]);
  assert.ok(Math.abs(s.perClass[6].mean - 0.8) < 1e-12);
  assert.equal(s.perClass[6].cases, 2);
  assert.equal(s.perClass[1].mean, 0.5);
  assert.ok(Math.abs(s.perClass[27].mean - 0.3) < 1e-12);
  assert.ok(Math.abs(s.organAverage! - 0.65) < 1e-12);
  assert.ok(Math.abs(s.tumorAverage! - 0.3) < 1e-12);
  assert.ok(Math.abs(s.average! - (0.8 + 0.5 + 0.3) / 3) < 1e-12);
  assert.equal(summariseDice([]).average, null);
});

test("relative Dice drop is 0 at the site itself and negative when forgotten", () => {
  assert.equal(relativeDiceDrop(0.8, 0.8), 0);
  assert.ok(Math.abs(relativeDiceDrop(0.6, 0.8)! + 0.25) < 1e-12);
  assert.ok(relativeDiceDrop(0.9, 0.8)! > 0);
  // Dice 0 after site k: 0/0 (or x/0) is not defined, never 0 ("no forgetting").
  assert.equal(relativeDiceDrop(0, 0), null);
  assert.equal(relativeDiceDrop(0.3, 0), null);
});

test("sliding windows cover the volume with overlap 0.5; Gaussian weights peak at the centre", () => {
  assert.deepEqual(windowStarts(16, 16, 0.5), [0]);
  assert.deepEqual(windowStarts(40, 16, 0.5), [0, 8, 16, 24]);
  assert.deepEqual(windowStarts(41, 16, 0.5), [0, 8, 16, 24, 25]);
  const g = gaussianImportance([9, 9, 9]);
  const centre = g[4 + 9 * (4 + 9 * 4)];
  assert.ok(g.every((v) => v > 0 && v <= centre));
  assert.ok(g[0] < 0.01 * centre);
});
