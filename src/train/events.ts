/** What a training run tells its caller (notebooks, the CLI, the run folder's metrics). */
import type { MemorySnapshotItem } from "../memory/memory.js";
import type { UniversalUNet } from "../model/universal-unet.js";
import type { StepCase } from "./step.js";

export interface StepEvent {
  it: number;
  budget: number;
  loss: number;
  lr: number;
  /** Stream positions trained in this step (with R ranks: R groups of B, rank 0's first). */
  cases: number[];
  /** Per trained case, each template organ's unweighted Dice + BCE (the case's organ order). */
  organLoss: Float32Array[];
  ms: number;
  /** Online strategies: the memories' contents during this step (as SiteEndEvent's). */
  memory?: MemorySnapshotItem[];
}

export interface ArrivalEvent {
  /** Steps done before this arrival. */
  it: number;
  pos: number;
  site: string;
  /** The size of the arriving rank's memory (the run's only memory at one rank). */
  memorySize: number;
  /** The rank the cases arrived at; absent when the run has one rank. */
  rank?: number;
}

export interface SiteEndEvent {
  site: string;
  it: number;
  /** Every rank's memory contents (rank 0's items first, each with its `rank` when there are several). */
  memory: MemorySnapshotItem[];
  /** The model as trained so far (for evaluations; do not dispose). */
  model: UniversalUNet;
}

export interface BatchEvent {
  /** The iteration this batch is about to train (1-based). */
  it: number;
  /** The patches as sampled and augmented, with their template organs and organ-ratio weights. */
  batch: readonly StepCase[];
  lr: number;
  /** The model before this step's update (for learning curves; do not dispose). */
  model: UniversalUNet;
}

export interface StartEvent {
  /** The iteration training continues from (0: a fresh run). */
  it: number;
  /** Continued from a checkpoint. */
  resumed: boolean;
  /** The checkpoint's run had already finished. */
  done: boolean;
}

export interface TrainEvents {
  /** Once the run's state is settled (fresh, or a checkpoint verified), before any other event. */
  onStart?: (e: StartEvent) => void | Promise<void>;
  /** Before each step, synchronously: e.g. the PyTorch twin's trace records the very patches trained on. */
  onBatch?: (e: BatchEvent) => void;
  onStep?: (e: StepEvent) => void | Promise<void>;
  onArrival?: (e: ArrivalEvent) => void | Promise<void>;
  /** After the replays of a site's last arrival (online strategies); awaited, e.g. to evaluate. */
  onSiteEnd?: (e: SiteEndEvent) => void | Promise<void>;
  onEpochEnd?: (e: { epoch: number; it: number }) => void | Promise<void>;
  onCheckpoint?: (e: { it: number }) => void | Promise<void>;
}
