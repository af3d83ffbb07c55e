/**
 * One training run of an experiment: what it is (spec, config, key) and what it leaves (a small JSON in
 * the profile's results folder: results/mini for the committed reproduction, else work/<profile>/results).
 * Training is train-run.ts's, driven by `npm run reproduce`; the notebooks only read results.
 */
import { createHash } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import type { DiceSummary } from "../eval/dice.js";
import type { MemorySnapshotItem } from "../memory/memory.js";
import { defaultConfig, type Strategy, type TrainConfig } from "../train/config.js";
import type { ExperimentSettings } from "./settings.js";

export interface RunSpec {
  dataset: "stream" | "single-site";
  strategy: Strategy;
  memory: number;
  samplingRate: number;
  topOneInK: number;
  epochs: number;
  seed: number;
  /** Evaluate on these sites' test cases at every later site end (Figure 2). */
  forgettingSites?: string[];
}

/** What a result keeps of a memory item: enough for Figure 3 (source site, stored entropy). */
export type StoredMemoryItem = Pick<MemorySnapshotItem, "idx" | "site" | "entropy">;

export interface SiteEndRecord {
  site: string;
  it: number;
  memory: StoredMemoryItem[];
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
  /** Training wall time, summed over the sessions of a resumed run, without the site-end evaluations. */
  trainSeconds: number;
  evalSeconds: number;
  backend: string;
  /** The code that trained it (short hash, marked when the code had uncommitted changes); absent in results of older kits. */
  commit?: string;
  finishedAt: string;
}

/** The training configuration of a run: the profile's defaults with the spec's sizes. */
export function runConfig(s: ExperimentSettings, spec: RunSpec): TrainConfig {
  return defaultConfig(s.profile, spec.strategy, {
    memorySize: spec.memory,
    samplingRate: spec.samplingRate,
    topOneInK: spec.topOneInK,
    epochs: spec.epochs,
    seed: spec.seed,
  });
}

/** The readable part of a run's key: experiment, strategy, sizes and seed (the same run under other settings shares it). */
export function runName(spec: RunSpec): string {
  const k = spec.strategy === "sm" ? `-k${spec.topOneInK}` : "";
  const size = spec.strategy === "repeated" ? `e${spec.epochs}` : `n${spec.memory}-s${spec.samplingRate}${k}`;
  return `${spec.dataset}-${spec.strategy}-${size}-seed${spec.seed}`;
}

/** A readable name with a hash of everything that makes the run: a changed setting is a new run. */
export function runKey(spec: RunSpec, config: TrainConfig): string {
  const hash = createHash("sha1").update(JSON.stringify({ spec, config })).digest("hex").slice(0, 10);
  return `${runName(spec)}-${hash}`;
}

export function resultFile(s: ExperimentSettings, key: string): string {
  return join(s.resultsDir, `${key}.json`);
}

/** A run's stored result, or undefined when it has not been trained (or its file is unreadable). */
export function readResult(s: ExperimentSettings, key: string): RunResult | undefined {
  const file = resultFile(s, key);
  if (!existsSync(file)) return undefined;
  try {
    return JSON.parse(readFileSync(file, "utf8")) as RunResult;
  } catch {
    return undefined; // a half-written file cannot exist (atomic writes); a hand-edited broken one is retrained
  }
}

/** A memory snapshot as a result stores it. */
export function storedMemory(items: readonly MemorySnapshotItem[]): StoredMemoryItem[] {
  return items.map(({ idx, site, entropy }) => ({ idx, site, entropy }));
}
