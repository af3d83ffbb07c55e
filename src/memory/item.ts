/** One replay-memory item and the memory's serialisable state (docs/method.md#the-replay-memories). */
import type { MemoryKind } from "./policies/index.js";

export interface MemoryItem {
  /** Stream position of the case. */
  idx: number;
  site: string;
  /** Steps of arrival this item has lived through (DM/SM only). */
  lifespan: number;
  seen: boolean;
  numSeen: number;
  /** Dice + BCE loss, once seen: LM overwrites it with the latest value, DM/SM Polyak-average it. */
  loss?: number;
  /** DM/SM: Polyak-averaged, L2-normalised pooled feature, once seen (LM stores none, as the reference). */
  feature?: number[];
  /** SM only: Polyak-averaged BCE term ("uncertainty" in Figure 3), once seen. */
  entropy?: number;
  /**
   * LM/DM only, monitoring, not the reference's: the BCE term Polyak-averaged as SM averages its entropy,
   * recorded so that Figure 3 can place LM/DM items too. The reference's LM/DM store no entropy; no
   * decision reads this field.
   */
  monitorEntropy?: number;
  /** Monitoring only: cosine similarity to the nearest other seen item. */
  nnSimilarity?: number;
}

export type { MemoryKind };

export interface MemoryState {
  kind: MemoryKind;
  capacity: number;
  /** SM: protect the top 1/K of seen items by entropy; this is K (4: the paper's "top 25%"). */
  topOneInK: number;
  /** Polyak averaging weight of the new value. */
  gamma: number;
  /**
   * DM/SM: the reference's `limit_num_seen_coeff * repeat` (off by default: absent or 0): after each
   * step's observations, items seen at least this many times leave memory.
   */
  maxNumSeen?: number;
  items: MemoryItem[];
}

export interface Observation {
  loss: number;
  feature: ArrayLike<number>;
  entropy: number;
}

export function l2normalise(v: ArrayLike<number>): number[] {
  let s = 0;
  for (let i = 0; i < v.length; i++) s += v[i] * v[i];
  const n = Math.sqrt(s) || 1;
  return Array.from(v, (x) => x / n);
}

export function dot(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
}
