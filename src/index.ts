/**
 * massive: the public API, what the notebooks use through `import * as massive from "massive"` and what a
 * researcher scripts with, by pipeline stage. Everything else is internal: import it by path in the kit's
 * own tests and tools.
 */
export const VERSION = "0.1.0";

// Set-up: the tfjs backend, profiles, where files are.
export { initBackend, backendReport, describeBackend, type BackendReport } from "./backend.js";
export { PROFILES, PAPER_WIDTHS, profileByName, type Profile, type ProfileName, type TrainDefaults, type ExperimentSizes } from "./profiles.js";
export { assetPath, kitRoot } from "./util/paths.js";
export { Rng } from "./util/rng.js";

// Data: NIfTI, the ontology, labels, preparation, the synthetic stream, prepared cases.
export { readNifti, readLabelNifti, writeNifti } from "./data/nifti.js";
export { axisCodes, reorientToRAS, type Vec3, type Volume } from "./data/volume.js";
export { CLASS_NAMES, NUM_CLASSES, SITES, TUMOR_CLASS_IDS, className, templateClasses, siteById, type SiteInfo } from "./data/ontology.js";
export { postLabel, organOf, tumourOf, hasClass, classMask, classCounts, classesIn, displayClass } from "./data/post-label.js";
export { transferLabels, splitRightLeft, rawDatasetLabels, datasetLabelsOf, type DatasetLabels } from "./data/label-transfer.js";
export { mapLabels, preprocessCase, type LabelMapping, type PreprocessOptions } from "./data/preprocess.js";
export { samplePatch, PAPER_AUGMENT, NO_AUGMENT, type AugmentConfig, type Patch } from "./data/augment.js";
export { readListFile, formatListFile, type ListEntry } from "./data/listfile.js";
export { readManifest, type Manifest, type ManifestCase } from "./data/manifest.js";
export { CaseStore, type TrainingCase } from "./data/case-store.js";
export { runPrep } from "./data/prep/prep.js";
export { runPhantomSet } from "./data/prep/phantom-set.js";

// Model and loss.
export { UniversalUNet, type ModelConfig } from "./model/universal-unet.js";
export { createModel, loadTextEmbedding } from "./model/create.js";
export { partialLabelLoss, organRatioWeights, oneHotTarget } from "./model/loss.js";

// Replay memories.
export { MEMORY_POLICIES, MEMORY_KINDS, type MemoryKind, type MemoryPolicy } from "./memory/policies/index.js";
export { ReplayMemory, createMemory, memoryFromState, type MemorySnapshotItem } from "./memory/memory.js";
export { chooseRemovals, type RemovalDecision } from "./memory/removal.js";
export type { MemoryItem, MemoryState, Observation } from "./memory/item.js";

// Training.
export { defaultConfig, validateConfig, STRATEGIES, type Strategy, type TrainConfig } from "./train/config.js";
export { train, type TrainOptions, type RunState } from "./train/trainer.js";
export type { TrainEvents } from "./train/events.js";

// Evaluation.
export { evaluateSplit, evaluateCase, type EvaluateOptions } from "./eval/evaluate.js";
export { slidingWindow, type Blend } from "./eval/sliding-window.js";
export { dice, relativeDiceDrop, summariseDice, type DiceSummary } from "./eval/dice.js";
export { pairedDifference, type PairedDifference } from "./eval/paired.js";

// Output for people: figures, tables, notebook display.
export {
  axialSliceRows,
  sliceFigure,
  memoryTimelineFigure,
  forgettingFigure,
  memoryScatterFigure,
  comparisonBarFigure,
  type PlotlyFigure,
  type MemoryFrame,
} from "./report/plots.js";
export { exportFigure } from "./report/export.js";
export { liveLine, showMarkdown, showHtml } from "./report/display.js";
export { toDataFrame, type Row } from "./report/tables.js";

// The paper's experiments (what the notebooks run and show).
export { experimentSettings, notebookProfile, type ExperimentSettings } from "./experiments/settings.js";
export { ensureData } from "./experiments/data.js";
export { plannedRuns } from "./experiments/plan.js";
export { notebookResults, resultsLine, type MethodResults } from "./experiments/results.js";
export { table1Rows, table2Rows, memoryPoints, memorySummaryRows, meanSd } from "./experiments/table-rows.js";
export { forgettingPanels, forgettingRows } from "./experiments/forgetting.js";
export { table1Claims, table2Claims, forgettingClaims, memoryClaims, type Claim } from "./experiments/claims.js";
export { NotebookOutputs, openNotebook, notebookFiguresDir, displayPath } from "./experiments/outputs.js";
export { PAPER_TABLE1, PAPER_TABLE2 } from "./experiments/paper-numbers.js";
export { whatThisShows } from "./experiments/report-md.js";
