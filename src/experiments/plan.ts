/**
 * Which runs each notebook needs: the one list that the notebooks read, `npm run reproduce` trains, and
 * REPORT.md judges. A method is one row of a table (e.g. "SM top 25%"); it has one run per seed.
 */
import { runConfig, runKey, type RunSpec } from "./runs.js";
import type { ExperimentSettings } from "./settings.js";
import type { TrainConfig } from "../train/config.js";
import { MEMORY_KINDS, MEMORY_POLICIES } from "../memory/policies/index.js";

export const T1 = "01-table1-data-efficiency";
export const T2 = "02-table2-dynamic-adaptation";
export const F2 = "03-figure2-forgetting";
export const F3 = "04-figure3-diverse-memory";
/** The notebooks that read training runs, in order (00-tutorial trains its own small examples). */
export const EXPERIMENT_NOTEBOOKS = [T1, T2, F2, F3];

export interface MethodPlan {
  /** The row's name, e.g. "LM N=4", "SM top 25%", "Repeated (6 epochs)". */
  label: string;
  spec: Omit<RunSpec, "seed">;
}

export interface PlannedRun {
  key: string;
  method: string;
  spec: RunSpec;
  config: TrainConfig;
}

/** Table 1: LM at three memory sizes against the repeated-epochs baseline, on the single-site set. */
export function table1Methods(s: ExperimentSettings): MethodPlan[] {
  const t = s.table1;
  return [
    ...t.memorySizes.map((n) => ({
      label: `LM N=${n}`,
      spec: { dataset: "single-site" as const, strategy: "lm" as const, memory: n, samplingRate: t.samplingRate, topOneInK: 4, epochs: t.epochs },
    })),
    {
      label: `Repeated (${t.epochs} epochs)`,
      spec: { dataset: "single-site", strategy: "repeated", memory: 1, samplingRate: 1, topOneInK: 4, epochs: t.epochs },
    },
  ];
}

/** Figures 2 and 3 use these of Table 2's runs. */
export const FIGURE_METHODS = ["LM", "DM", "SM top 25%"];

/** Table 2: LM, DM, SM at each top-K (with the forgetting evaluations where Figure 2 needs them), repeated. */
export function table2Methods(s: ExperimentSettings, only?: readonly string[]): MethodPlan[] {
  const t = s.table2;
  const base = { dataset: "stream" as const, memory: t.memory, samplingRate: t.samplingRate, epochs: t.epochs, forgettingSites: s.forgettingSites };
  // The memory policies in their table's order (src/memory/policies); SM once per top 1/K.
  const online: MethodPlan[] = MEMORY_KINDS.filter((k) => k !== "sm").map((k) => ({
    label: MEMORY_POLICIES[k].label,
    spec: { ...base, strategy: k, topOneInK: 4 },
  }));
  const all: MethodPlan[] = [
    ...online,
    // Figure 2 needs the forgetting evaluations of LM, DM and SM top 25% only.
    ...t.topOneInKs.map((k) => ({
      label: `${MEMORY_POLICIES.sm.label} top ${(100 / k).toFixed(1).replace(/\.0$/, "")}%`,
      spec: { ...base, strategy: "sm" as const, topOneInK: k, forgettingSites: k === 4 ? s.forgettingSites : undefined },
    })),
    { label: `Repeated (${t.epochs} epochs)`, spec: { dataset: "stream", strategy: "repeated", memory: 1, samplingRate: 1, topOneInK: 4, epochs: t.epochs } },
  ];
  return only ? all.filter((m) => only.some((o) => m.label === o || (o === "Repeated" && m.label.startsWith("Repeated")))) : all;
}

/** The methods a notebook shows. */
export function notebookMethods(s: ExperimentSettings, notebook: string): MethodPlan[] {
  if (notebook === T1) return table1Methods(s);
  if (notebook === T2) return table2Methods(s);
  if (notebook === F2 || notebook === F3) return table2Methods(s, FIGURE_METHODS);
  return [];
}

/** One run of a method for one seed. */
export function plannedRun(s: ExperimentSettings, m: MethodPlan, seed: number): PlannedRun {
  const spec: RunSpec = { ...m.spec, seed };
  const config = runConfig(s, spec);
  return { key: runKey(spec, config), method: m.label, spec, config };
}

/** Every run the given notebooks need, each once (Figures 2 and 3 share Table 2's), in notebook order. */
export function plannedRuns(s: ExperimentSettings, notebooks: readonly string[] = EXPERIMENT_NOTEBOOKS): PlannedRun[] {
  const byKey = new Map<string, PlannedRun>();
  for (const nb of notebooks)
    for (const m of notebookMethods(s, nb))
      for (const seed of s.seeds) {
        const r = plannedRun(s, m, seed);
        if (!byKey.has(r.key)) byKey.set(r.key, r);
      }
  return [...byKey.values()];
}
