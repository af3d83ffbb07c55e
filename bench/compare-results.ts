/**
 * `node dist/bench/compare-results.js <old results dir> <new results dir>`: two folders of per-run results
 * (e.g. results/mini of two commits) compared run by run as paired differences (bench/results-comparison.ts).
 * Used for the mini learning-rate change (docs/sizing.md, "Learning rate").
 */
import { existsSync, readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import type { RunResult } from "../src/experiments/runs.js";
import { compareResults } from "./results-comparison.js";

function loadResults(dir: string): RunResult[] {
  if (!existsSync(dir)) throw new Error(`compare-results: ${dir}: no such folder`);
  return readdirSync(dir)
    .filter((f) => f.endsWith(".json"))
    .map((f) => {
      const file = join(dir, f);
      let r: Partial<RunResult>;
      try {
        r = JSON.parse(readFileSync(file, "utf8")) as Partial<RunResult>;
      } catch (e) {
        throw new Error(`compare-results: ${file}: not JSON (${(e as Error).message})`);
      }
      if (!r.spec || !r.final?.perClass) throw new Error(`compare-results: ${file}: not a per-run result (no spec or final.perClass)`);
      return r as RunResult;
    });
}

try {
  const [oldDir, newDir] = process.argv.slice(2);
  if (!oldDir || !newDir) throw new Error("usage: node dist/bench/compare-results.js <old results dir> <new results dir>");
  for (const line of compareResults(loadResults(oldDir), loadResults(newDir))) console.log(line);
} catch (e) {
  console.error((e as Error).message);
  process.exitCode = 1;
}
