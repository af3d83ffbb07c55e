/**
 * figures/PROVENANCE.json: what made the committed figures (commit, whether the code was dirty, date,
 * command, parallel jobs, wall times, each run's training time). Written by `npm run reproduce`, read by
 * REPORT.md (run times) and `--report-only`, which must also take a file of an older kit.
 */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import type { ExperimentSettings } from "./settings.js";

export interface RunTiming {
  key: string;
  iterations: number;
  trainSeconds: number;
  evalSeconds: number;
  /** Trained by this invocation (false: read from the results folder). */
  trainedNow: boolean;
  /** The commit of the code that trained it (from its result; absent for results of older kits). */
  commit?: string;
}

export interface ReproduceProvenance {
  profile: string;
  seeds: number[];
  /** The commit of the code that ran this invocation (short hash), "unknown" outside git; each run's own in `runs`. */
  commit: string;
  /** Code (not the run's own outputs: results/, figures/, notebooks/*.ipynb) differed from the commit. */
  codeDirty?: boolean;
  dirtyFiles?: string[];
  date: string;
  command: string;
  jobs?: number;
  /** Wall time of this invocation (a resumed reproduction: of the last part only). */
  wallSecondsTotal?: number;
  wallSecondsTraining?: number;
  wallSecondsPerNotebook?: Record<string, number>;
  runs?: RunTiming[];
  notebooks?: Record<string, unknown>[];
}

export function provenanceFile(s: ExperimentSettings): string {
  return join(s.figuresDir, "PROVENANCE.json");
}

/** The provenance of the last reproduction, or undefined (none, or unreadable). */
export function readProvenance(s: ExperimentSettings): ReproduceProvenance | undefined {
  try {
    const f = provenanceFile(s);
    return existsSync(f) ? (JSON.parse(readFileSync(f, "utf8")) as ReproduceProvenance) : undefined;
  } catch {
    return undefined;
  }
}
