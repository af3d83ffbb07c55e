/** One replay-memory item and the memory's serialisable state (DESIGN.md section 1). */
export interface MemoryItem {
  /** Stream position of the case. */
  idx: number;
  site: string;
  /** Steps of arrival this item has lived through (DM/SM only). */
  lifespan: number;
  seen: boolean;
  numSeen: number;
  /** Polyak-averaged Dice + BCE loss, once seen. */
  loss?: number;
  /** Polyak-averaged, L2-normalised pooled feature, once seen. */
  feature?: number[];
  /** Polyak-averaged BCE term ("uncertainty" in Figure 3), once seen. */
  entropy?: number;
  /** Monitoring only: cosine similarity to the nearest other seen item. */
  nnSimilarity?: number;
}

export type MemoryKind = "lm" | "dm" | "sm";

export interface MemoryState {
  kind: MemoryKind;
  capacity: number;
  /** SM: protect the top 1/K of candidates by entropy (K = 4 is the paper's "top 25%"). */
  topK: number;
  /** Polyak averaging weight of the new value. */
  gamma: number;
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
