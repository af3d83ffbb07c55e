/**
 * Training one planned run into its result file, in a run folder (work/<profile>/runs/<key>) that holds
 * its checkpoints and what it has recorded so far (site ends with their forgetting evaluations, time
 * spent), so that a killed run continues from its last checkpoint and gives the uninterrupted run's
 * result. The folder is removed once the result is written.
 */
import { existsSync, mkdirSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { backendReport } from "../backend.js";
import { evaluateSplit } from "../eval/evaluate.js";
import { CaseStore } from "../data/case-store.js";
import { writeFileAtomic, writeJsonAtomic } from "../util/atomic.js";
import { train } from "../train/trainer.js";
import type { ExperimentData } from "./data.js";
import { gitCommit } from "./git-state.js";
import type { PlannedRun } from "./plan.js";
import { resultFile, storedMemory, type RunResult, type SiteEndRecord } from "./runs.js";
import type { ExperimentSettings } from "./settings.js";

/** What a run folder keeps besides its checkpoint. */
interface PartialRun {
  /** Time spent up to the last checkpoint (summed over sessions). */
  atCheckpoint: { it: number; trainSeconds: number; evalSeconds: number };
  /** Every site end recorded so far (also those after the last checkpoint: a resumed run records them again). */
  siteEnds: SiteEndRecord[];
}

export interface RunProgress {
  it: number;
  /** Unknown until the first step. */
  budget: number | null;
  /** This session continued from a checkpoint. */
  resumed: boolean;
}

export interface TrainRunOptions {
  /** Default work/<profile>/runs/<key>. */
  runDir?: string;
  onProgress?: (p: RunProgress) => void;
  /** Stop after this many steps in this call, as if killed (tests). */
  stopAfter?: number;
  log?: (line: string) => void;
}

export function runDirFor(s: ExperimentSettings, key: string): string {
  return join(s.workDir, "runs", key);
}

function readPartial(file: string): PartialRun | undefined {
  try {
    return existsSync(file) ? (JSON.parse(readFileSync(file, "utf8")) as PartialRun) : undefined;
  } catch {
    return undefined;
  }
}

/** Train (or continue) a run and write its result; undefined when stopped early by `stopAfter`. */
export async function trainRun(s: ExperimentSettings, data: ExperimentData, run: PlannedRun, opts: TrainRunOptions = {}): Promise<RunResult | undefined> {
  const { key, spec, config } = run;
  const runDir = opts.runDir ?? runDirFor(s, key);
  const partialFile = join(runDir, "partial.json");
  mkdirSync(runDir, { recursive: true });
  const dataDir = spec.dataset === "stream" ? data.stream : data.singleSite;
  const store = new CaseStore(dataDir, config.roi);
  const order = (site: string) => Number(site.replace(/\D/g, ""));
  const partial: PartialRun = { atCheckpoint: { it: 0, trainSeconds: 0, evalSeconds: 0 }, siteEnds: [] };
  let sessionStart = performance.now();
  let sessionEvalMs = 0;
  let resumed = false;
  // Totals: those at the last checkpoint plus this session's since then.
  const elapsed = () => ({
    trainSeconds: partial.atCheckpoint.trainSeconds + (performance.now() - sessionStart - sessionEvalMs) / 1000,
    evalSeconds: partial.atCheckpoint.evalSeconds + sessionEvalMs / 1000,
  });
  const result = await train({
    config,
    data: dataDir,
    store,
    runDir,
    resume: true,
    stopAfter: opts.stopAfter,
    progress: false,
    log: opts.log ?? (() => {}),
    events: {
      onStart: (e) => {
        resumed = e.resumed;
        // Keep what was recorded up to the checkpoint; later site ends come again as the run continues.
        const before = e.it > 0 ? readPartial(partialFile) : undefined;
        if (before) {
          partial.siteEnds = before.siteEnds.filter((r) => r.it <= e.it);
          partial.atCheckpoint = before.atCheckpoint;
        }
        sessionStart = performance.now();
        opts.onProgress?.({ it: e.it, budget: null, resumed });
      },
      onStep: (e) => opts.onProgress?.({ it: e.it, budget: e.budget, resumed }),
      onSiteEnd: async (e) => {
        const dice: Record<string, number | null> = {};
        const t0 = performance.now();
        for (const k of spec.forgettingSites ?? []) {
          if (order(k) > order(e.site)) continue;
          dice[k] = (await evaluateSplit(e.model, store, config.roi, { split: "test", sites: [k], progress: false })).summary.average;
        }
        sessionEvalMs += performance.now() - t0;
        const record: SiteEndRecord = { site: e.site, it: e.it, memory: storedMemory(e.memory), dice };
        const at = partial.siteEnds.findIndex((r) => r.site === e.site);
        if (at >= 0) partial.siteEnds[at] = record;
        else partial.siteEnds.push(record);
        writeJsonAtomic(partialFile, partial);
      },
      onCheckpoint: (e) => {
        partial.atCheckpoint = { it: e.it, ...elapsed() };
        sessionStart = performance.now();
        sessionEvalMs = 0;
        writeJsonAtomic(partialFile, partial);
      },
    },
  });
  if (result.stopped) {
    result.dispose();
    return undefined;
  }
  const spent = elapsed();
  const t1 = performance.now();
  const final = (await evaluateSplit(result.model, store, config.roi, { split: "test", progress: false })).summary;
  result.dispose();
  const out: RunResult = {
    key,
    spec,
    config,
    final,
    siteEnds: partial.siteEnds,
    iterations: result.state.it,
    trainSeconds: spent.trainSeconds,
    evalSeconds: spent.evalSeconds + (performance.now() - t1) / 1000,
    backend: backendReport()?.backend ?? "unknown",
    commit: gitCommit(),
    finishedAt: new Date().toISOString(),
  };
  // Compact: one small file per run, tracked in git for the committed profile.
  mkdirSync(s.resultsDir, { recursive: true });
  writeFileAtomic(resultFile(s, key), JSON.stringify(out) + "\n");
  rmSync(runDir, { recursive: true, force: true });
  return out;
}
