/** What a training run tells its caller (notebooks, the CLI, the run folder's metrics). */
import type { MemorySnapshotItem } from "../memory/memory.js";
import type { UniversalUNet } from "../model/universal-unet.js";

export interface StepEvent {
  it: number;
  budget: number;
  loss: number;
  lr: number;
  /** Stream positions trained in this step. */
  cases: number[];
  ms: number;
  /** Online strategies: the memory's contents during this step. */
  memory?: MemorySnapshotItem[];
}

export interface ArrivalEvent {
  /** Steps done before this arrival. */
  it: number;
  pos: number;
  site: string;
  memorySize: number;
}

export interface SiteEndEvent {
  site: string;
  it: number;
  memory: MemorySnapshotItem[];
  /** The model as trained so far (for evaluations; do not dispose). */
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
  onStep?: (e: StepEvent) => void | Promise<void>;
  onArrival?: (e: ArrivalEvent) => void | Promise<void>;
  /** After the replays of a site's last arrival (online strategies); awaited, e.g. to evaluate. */
  onSiteEnd?: (e: SiteEndEvent) => void | Promise<void>;
  onEpochEnd?: (e: { epoch: number; it: number }) => void | Promise<void>;
  onCheckpoint?: (e: { it: number }) => void | Promise<void>;
}
