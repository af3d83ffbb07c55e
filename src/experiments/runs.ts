/**
 * One training run of an experiment, with the evaluations the figures need, cached as JSON under
 * work/<profile>/results/ so that later notebooks reuse the runs of earlier ones (Figure 2 and 3 come
 * from Table 2's online runs).
 */
import { createHash } from "node:crypto";
import { appendFileSync, existsSync, mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { backendReport } from "../backend.js";
import { liveLine } from "../report/display.js";
import type { DiceSummary } from "../eval/dice.js";
import { evaluateSplit } from "../eval/evaluate.js";
import type { MemorySnapshotItem } from "../memory/memory.js";
import { CaseStore } from "../train/cases.js";
import { defaultConfig, type Strategy, type TrainConfig } from "../train/config.js";
import { writeJsonAtomic } from "../train/run-dir.js";
import { train } from "../train/trainer.js";
import type { ExperimentSettings } from "./settings.js";

export interface RunSpec {
  dataset: "stream" | "single-site";
  strategy: Strategy;
  memory: number;
  samplingRate: number;
  topK: number;
  epochs: number;
  seed: number;
  /** Evaluate on these sites' test cases at every later site end (Figure 2). */
  forgettingSites?: string[];
}

export interface SiteEndRecord {
  site: string;
  it: number;
  memory: MemorySnapshotItem[];
  /** Average Dice on each forgetting site's test cases after this site (when due). */
  dice: Record<string, number | null>;
}

export interface RunResult {
  key: string;
  spec: RunSpec;
  config: TrainConfig;
  final: DiceSummary;
  siteEnds: SiteEndRecord[];
  iterations: number;
  trainSeconds: number;
  evalSeconds: number;
  backend: string;
  finishedAt: string;
}

export function runKey(spec: RunSpec, config: TrainConfig): string {
  const hash = createHash("sha1").update(JSON.stringify({ spec, config })).digest("hex").slice(0, 10);
  const k = spec.strategy === "sm" ? `-k${spec.topK}` : "";
  const size = spec.strategy === "repeated" ? `e${spec.epochs}` : `n${spec.memory}-s${spec.samplingRate}${k}`;
  return `${spec.dataset}-${spec.strategy}-${size}-seed${spec.seed}-${hash}`;
}

const liveLines = new Map<string, { update(text: string): void }>();

/**
 * A line to work/<profile>/progress.log (followed by `npm run reproduce`), and to the reader: in a
 * notebook one line per run that updates in place (`run` names it), elsewhere a line on stderr.
 */
export function progressLog(s: ExperimentSettings, line: string, run?: string): void {
  mkdirSync(s.workDir, { recursive: true });
  appendFileSync(join(s.workDir, "progress.log"), `${new Date().toISOString()} ${line}\n`);
  if (!run) {
    process.stderr.write(line + "\n");
    return;
  }
  const live = liveLines.get(run);
  // A run shown already in this kernel and read again from the cache (e.g. by a closing cell) keeps its line.
  if (live && line.endsWith(": cached")) return;
  if (live) live.update(line);
  else liveLines.set(run, liveLine(line));
}

export async function runExperiment(s: ExperimentSettings, dataDir: string, spec: RunSpec): Promise<RunResult> {
  const config = defaultConfig(s.profile, spec.strategy, {
    memorySize: spec.memory,
    samplingRate: spec.samplingRate,
    topK: spec.topK,
    epochs: spec.epochs,
    seed: spec.seed,
  });
  const key = runKey(spec, config);
  const file = join(s.workDir, "results", `${key}.json`);
  if (existsSync(file)) {
    progressLog(s, `run ${key}: cached`, key);
    return JSON.parse(readFileSync(file, "utf8")) as RunResult;
  }
  if (process.env.MASSIVE_CACHED_ONLY === "1") {
    throw new Error(`run ${key} is not in ${join(s.workDir, "results")} (MASSIVE_CACHED_ONLY=1: nothing is trained)`);
  }
  progressLog(s, `run ${key}: training`, key);
  const store = new CaseStore(dataDir, config.roi);
  const siteEnds: SiteEndRecord[] = [];
  const order = (site: string) => Number(site.replace(/\D/g, ""));
  const t0 = performance.now();
  let evalMs = 0;
  let lastReport = 0;
  const result = await train({
    config,
    data: dataDir,
    store,
    progress: false,
    log: () => {},
    events: {
      onStep: (e) => {
        // In a notebook the line updates in place, so it can be kept current; the log file gets one every 10 s too.
        if (performance.now() - lastReport > 10_000) {
          lastReport = performance.now();
          progressLog(s, `run ${key}: step ${e.it}/${e.budget}, loss ${e.loss.toFixed(3)}`, key);
        }
      },
      onSiteEnd: async (e) => {
        const dice: Record<string, number | null> = {};
        const te = performance.now();
        for (const k of spec.forgettingSites ?? []) {
          if (order(k) > order(e.site)) continue;
          dice[k] = (await evaluateSplit(e.model, store, config.roi, { split: "test", sites: [k], progress: false })).summary.average;
        }
        evalMs += performance.now() - te;
        siteEnds.push({ site: e.site, it: e.it, memory: e.memory, dice });
      },
    },
  });
  const trainSeconds = (performance.now() - t0 - evalMs) / 1000;
  const t1 = performance.now();
  const final = (await evaluateSplit(result.model, store, config.roi, { split: "test", progress: false })).summary;
  result.dispose();
  const out: RunResult = {
    key,
    spec,
    config,
    final,
    siteEnds,
    iterations: result.state.it,
    trainSeconds,
    evalSeconds: (performance.now() - t1 + evalMs) / 1000,
    backend: backendReport()?.backend ?? "unknown",
    finishedAt: new Date().toISOString(),
  };
  mkdirSync(join(s.workDir, "results"), { recursive: true });
  writeJsonAtomic(file, out);
  progressLog(s, `run ${key}: done, ${out.iterations} steps in ${trainSeconds.toFixed(0)} s, Average Dice ${final.average?.toFixed(4) ?? "-"}`, key);
  return out;
}
