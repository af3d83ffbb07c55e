/**
 * A smoke training run on the backend MASSIVE_BACKEND names, for comparing backends (test/webgpu.test.ts
 * and scripts/gpu-check.sh): trains the smoke profile for a few steps from a prepared folder, saves a
 * checkpoint, evaluates the D1 test cases, and prints one JSON line with the backend, each step's loss
 * and the memory after every step (its decisions).
 * node dist/scripts/backend-run.js <prepared dir> <steps> [strategy]
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { backendReport, describeBackend, initBackend, releaseWebGpu } from "../src/backend.js";
import { defaultConfig } from "../src/train/config.js";
import { train } from "../src/train/trainer.js";
import { CaseStore } from "../src/data/case-store.js";
import { evaluateSplit } from "../src/eval/evaluate.js";
import { loadCheckpoint } from "../src/train/checkpoint.js";

export interface SmokeRun {
  backend: string;
  adapter?: unknown;
  describe: string;
  losses: number[];
  memory: unknown[];
  stepMs: number[];
  checkpointIt: number;
  checkpointArrays: number;
  dice: number | null;
}

export async function smokeRun(data: string, steps: number, strategy = "sm"): Promise<SmokeRun> {
  await initBackend({ log: () => {} });
  const config = defaultConfig("smoke", strategy as "sm", { memorySize: 4, samplingRate: 2, checkpointEvery: 5, seed: 3 });
  const losses: number[] = [];
  const memory: unknown[] = [];
  const stepMs: number[] = [];
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
        stepMs.push(e.ms);
      },
    },
  });
  const ck = loadCheckpoint<{ it: number }>(runDir);
  rmSync(runDir, { recursive: true, force: true }); // read once; runs on every check and test would pile up in /tmp
  const ev = await evaluateSplit(r.model, new CaseStore(data, config.roi), config.roi, { split: "test", sites: ["D1"], progress: false });
  r.dispose();
  const report = backendReport()!;
  return {
    backend: report.backend,
    adapter: report.adapter,
    describe: describeBackend(report),
    losses,
    memory,
    stepMs,
    checkpointIt: ck.state.it,
    checkpointArrays: ck.arrays.length,
    dice: ev.summary.average,
  };
}

if (/backend-run\.js$/.test(process.argv[1] ?? "")) {
  const [data, stepsText, strategy] = process.argv.slice(2);
  smokeRun(data, Number(stepsText ?? 10), strategy)
    .then((r) => {
      console.log(JSON.stringify(r));
      releaseWebGpu();
    })
    .catch((e) => {
      console.error(e);
      process.exit(1);
    });
}
