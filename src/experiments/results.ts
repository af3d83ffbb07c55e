/**
 * Reading the stored results of a notebook's runs. Notebooks never train: a missing run is an error that
 * names it and the command that trains it (`npm run reproduce`, which trains what is missing in parallel
 * and resumes interrupted runs).
 */
import { displayPath } from "./outputs.js";
import { EXPERIMENT_NOTEBOOKS, notebookMethods, plannedRun, type MethodPlan } from "./plan.js";
import { readResult, type RunResult } from "./runs.js";
import type { ExperimentSettings } from "./settings.js";

export interface MethodResults {
  method: string;
  /** One per seed, in the profile's seed order. */
  runs: RunResult[];
}

export class MissingRunsError extends Error {
  constructor(
    readonly missing: string[],
    message: string,
  ) {
    super(message);
    this.name = "MissingRunsError";
  }
}

/** The command that trains what `notebooks` need (all of them when none is named). */
export function trainCommand(s: ExperimentSettings, notebooks?: readonly string[]): string {
  const only = notebooks && notebooks.length < EXPERIMENT_NOTEBOOKS.length ? ` --only ${notebooks.map((n) => n.slice(0, 2)).join(",")}` : "";
  return `npm run reproduce -- --profile ${s.profile}${only}`;
}

/** The results of each method's runs (one per seed); throws MissingRunsError naming every missing run. */
export function loadMethods(s: ExperimentSettings, methods: readonly MethodPlan[], notebooks?: readonly string[]): MethodResults[] {
  const missing: string[] = [];
  const out = methods.map((m) => ({
    method: m.label,
    runs: s.seeds.flatMap((seed) => {
      const { key } = plannedRun(s, m, seed);
      const r = readResult(s, key);
      if (!r) missing.push(key);
      return r ? [r] : [];
    }),
  }));
  if (missing.length) throw new MissingRunsError(missing, missingRunsMessage(s, missing, notebooks));
  return out;
}

/** Which runs are missing, and the command that trains them (for `notebooks`; all when none is named). */
export function missingRunsMessage(s: ExperimentSettings, missing: readonly string[], notebooks?: readonly string[]): string {
  const shown = missing.slice(0, 3).join(", ") + (missing.length > 3 ? ` and ${missing.length - 3} more` : "");
  return (
    `${missing.length} of the runs needed ${missing.length === 1 ? "is" : "are"} not in ${displayPath(s.resultsDir)}: ${shown}. Notebooks and --report-only never train; ` +
    `\`${trainCommand(s, notebooks)}\` trains the missing runs (in parallel, resuming interrupted ones) and executes the notebooks.`
  );
}

/** A notebook's methods with their results. */
export function notebookResults(s: ExperimentSettings, notebook: string): MethodResults[] {
  return loadMethods(s, notebookMethods(s, notebook), [notebook]);
}

/** One line for a notebook: how many runs it read, and from where. */
export function resultsLine(s: ExperimentSettings, results: MethodResults[]): string {
  const runs = results.reduce((a, r) => a + r.runs.length, 0);
  return `${runs} runs (${results.length} methods x ${s.seeds.length} seed${s.seeds.length === 1 ? "" : "s"}) read from ${displayPath(s.resultsDir)} (trained by \`${trainCommand(s)}\`)`;
}
