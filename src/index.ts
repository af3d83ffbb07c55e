/** massive: the public API (used by the notebooks through `import * as massive from "massive"`). */
export const VERSION = "0.1.0";

export * from "./backend.js";
export * from "./profiles.js";
export * from "./util/rng.js";
export * from "./util/progress.js";
export * from "./util/paths.js";

export * from "./data/volume.js";
export * from "./data/nifti.js";
export * from "./data/ontology.js";
export * from "./data/preprocess.js";
export * from "./data/augment.js";
export * from "./data/phantom.js";
export * from "./data/listfile.js";
export * from "./data/manifest.js";
export * from "./data/post-label.js";
export * from "./data/label-transfer.js";

export * from "./memory/item.js";
export * from "./memory/coverage.js";
export * from "./memory/removal.js";
export * from "./memory/memory.js";

export * from "./model/universal-unet.js";
export * from "./model/loss.js";

export * from "./train/config.js";
export * from "./train/cases.js";
export * from "./train/events.js";
export * from "./train/trainer.js";
export * from "./train/checkpoint.js";
export * from "./train/run-dir.js";

export * from "./eval/dice.js";
export * from "./eval/evaluate.js";
export * from "./eval/sliding-window.js";
export * from "./eval/student-t.js";
export * from "./eval/paired.js";

export * from "./report/plots.js";
export * from "./report/export.js";
export * from "./report/display.js";
export * from "./report/tables.js";

export * from "./experiments/settings.js";
export * from "./experiments/data.js";
export * from "./experiments/runs.js";
export * from "./experiments/plan.js";
export * from "./experiments/results.js";
export * from "./experiments/train-run.js";
export * from "./experiments/tables.js";
export * from "./experiments/forgetting.js";
export * from "./experiments/claims.js";
export * from "./experiments/provenance.js";
export * from "./experiments/outputs.js";
export * from "./experiments/paper-numbers.js";
export { runPrep } from "../data-prep/prep.js";
export { runPhantomSet } from "../data-prep/phantom-set.js";
export * from "./experiments/report.js";
