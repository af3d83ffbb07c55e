/**
 * Child process of test/webgpu.test.ts (and scripts/gpu-check.sh): trains the smoke profile on the
 * backend MASSIVE_BACKEND names for a few steps and prints one JSON line with the backend, each step's
 * loss and the memory's decisions (what it holds after every step), then evaluates one test case.
 * node dist/scripts/backend-run.js <prepared dir> <steps> [strategy]
 */
import { backendReport, describeBackend, initBackend, releaseWebGpu } from "../src/backend.js";
import { defaultConfig } from "../src/train/config.js";
import { train } from "../src/train/trainer.js";
import { CaseStore } from "../src/train/cases.js";
import { evaluateSplit } from "../src/eval/evaluate.js";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadCheckpoint } from "../src/train/checkpoint.js";

async function main() {
  const [data, stepsText, strategy] = process.argv.slice(2);
  const steps = Number(stepsText ?? 10);
  await initBackend({ log: () => {} });
  const config = defaultConfig("smoke", (strategy ?? "sm") as "sm", { memorySize: 4, samplingRate: 2, checkpointEvery: 5, seed: 3 });
  const losses: number[] = [];
  const memory: unknown[] = [];
  const runDir = mkdtempSync(join(tmpdir(), "massive-backend-run-"));
  const r = await train({
    config,
    data,
    runDir,
    sites: ["D1", "D2", "D3", "D4", "D5"],
    stopAfter: steps,
    progress: false,
    log: () => {},
    events: {
      onStep: (e) => {
        losses.push(e.loss);
        memory.push(e.memory);
      },
    },
  });
  const ck = loadCheckpoint<{ it: number }>(runDir);
  const ev = await evaluateSplit(r.model, new CaseStore(data, config.roi), config.roi, { split: "test", sites: ["D1"], progress: false });
  r.dispose();
  const report = backendReport()!;
  console.log(
    JSON.stringify({
      backend: report.backend,
      adapter: report.adapter,
      describe: describeBackend(report),
      losses,
      memory,
      checkpointIt: ck.state.it,
      checkpointArrays: ck.arrays.length,
      dice: ev.summary.average,
    }),
  );
  releaseWebGpu();
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
