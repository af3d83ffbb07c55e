/**
 * Replay memories behind one interface: LinearMemory (FIFO), DynamicMemory (keeps unique samples) and
 * SelectiveMemory (keeps unique and challenging samples). State is plain JSON; decisions are pure
 * functions of it (removal.ts); randomness comes from the Rng the caller passes.
 */
import type { Rng } from "../util/rng.js";
import { dot, l2normalise, type MemoryItem, type MemoryKind, type MemoryState, type Observation } from "./item.js";
import { chooseRemovals, type RemovalDecision } from "./removal.js";

export interface ArrivingCase {
  idx: number;
  site: string;
}

export interface MemorySnapshotItem {
  idx: number;
  site: string;
  /**
   * For Figure 3: SM's stored entropy; for LM/DM the monitoring entropy recorded apart from the memory's
   * decision state (`monitorEntropy`: the reference's LM/DM store none). Null until seen.
   */
  entropy: number | null;
  numSeen: number;
  lifespan: number;
  /** The data-parallel rank whose memory holds the item; absent when the run has one rank. */
  rank?: number;
}

export class ReplayMemory {
  constructor(readonly state: MemoryState) {
    if (!(state.capacity >= 1)) throw new Error(`memory capacity must be >= 1, got ${state.capacity}`);
    if (state.kind === "sm" && !(state.topK >= 1)) throw new Error(`SelectiveMemory needs topK >= 1, got ${state.topK}`);
  }

  get kind(): MemoryKind {
    return this.state.kind;
  }
  get size(): number {
    return this.state.items.length;
  }
  get isFull(): boolean {
    return this.size >= this.state.capacity;
  }
  get items(): readonly MemoryItem[] {
    return this.state.items;
  }

  /** Step 1: append new cases as unseen items; DM and SM then age every item by one. */
  arrive(cases: ArrivingCase[]): void {
    for (const c of cases) this.state.items.push({ idx: c.idx, site: c.site, lifespan: 0, seen: false, numSeen: 0 });
    if (this.kind !== "lm") for (const it of this.state.items) it.lifespan += 1;
  }

  /** Step 3: shrink to capacity by the memory's rule. */
  shrink(): RemovalDecision {
    const d = chooseRemovals(this.state);
    if (d.remove.length) {
      const gone = new Set(d.remove);
      this.state.items = this.state.items.filter((_, p) => !gone.has(p));
    }
    return d;
  }

  /** Step 4: draw `batch` items uniformly (without replacement when batch <= size). Returns stream idx. */
  sample(batch: number, rng: Rng): number[] {
    const n = this.size;
    if (n === 0) throw new Error("cannot sample from an empty memory");
    if (batch <= n) return rng.sample(n, batch).map((p) => this.state.items[p].idx);
    return Array.from({ length: batch }, () => this.state.items[rng.int(n)].idx);
  }

  /**
   * Step 5: record what training saw for a case still in memory, as the reference's update_sample_stats:
   * LM overwrites `loss` (no feature, no entropy); DM stores `loss` and the L2-normalised `feature`, the
   * first time as they are, later Polyak-averaged (feature re-normalised); SM also `entropy`, averaged
   * the same way. LM/DM keep the BCE term only as `monitorEntropy` (not the reference's; no decision
   * reads it). Then, when `maxNumSeen` is set (DM/SM), items seen that many times leave memory.
   */
  observe(idx: number, obs: Observation): void {
    this.observeBatch([idx], [obs]);
  }

  /** Step 5 for one training step's cases (position k of `idx` goes with `obs[k]`). */
  observeBatch(idx: readonly number[], obs: readonly Observation[]): void {
    if (idx.length !== obs.length) throw new Error(`observeBatch: ${idx.length} cases but ${obs.length} observations`);
    let any = false;
    idx.forEach((id, k) => {
      const it = this.state.items.find((x) => x.idx === id);
      if (!it) return; // it left memory meanwhile
      this.record(it, obs[k]);
      any = true;
    });
    const max = this.state.maxNumSeen ?? 0;
    if (max > 0 && this.kind !== "lm") this.state.items = this.state.items.filter((x) => x.numSeen < max);
    if (any) this.updateNearestNeighbours();
  }

  private record(it: MemoryItem, obs: Observation): void {
    const g = this.state.gamma;
    const avg = (old: number | undefined, v: number) => (old === undefined ? v : (1 - g) * old + g * v);
    const first = !it.seen;
    if (this.kind === "lm") {
      it.loss = obs.loss;
    } else {
      const f = l2normalise(obs.feature);
      if (first || !it.feature) {
        it.loss = obs.loss;
        it.feature = f;
      } else {
        it.loss = avg(it.loss, obs.loss);
        it.feature = l2normalise(it.feature.map((v, i) => (1 - g) * v + g * f[i]));
      }
    }
    if (this.kind === "sm") it.entropy = first ? obs.entropy : avg(it.entropy, obs.entropy);
    else it.monitorEntropy = first ? obs.entropy : avg(it.monitorEntropy, obs.entropy);
    it.seen = true;
    it.numSeen += 1;
  }

  /** Monitoring: each seen item's cosine similarity to its nearest other seen item. */
  private updateNearestNeighbours(): void {
    const seen = this.state.items.filter((x) => x.seen && x.feature);
    for (const a of seen) {
      let best = -Infinity;
      for (const b of seen) if (a !== b) best = Math.max(best, dot(a.feature!, b.feature!));
      a.nnSimilarity = Number.isFinite(best) ? best : undefined;
    }
  }

  snapshot(): MemorySnapshotItem[] {
    return this.state.items.map((x) => ({ idx: x.idx, site: x.site, entropy: (this.kind === "sm" ? x.entropy : x.monitorEntropy) ?? null, numSeen: x.numSeen, lifespan: x.lifespan }));
  }

  toJSON(): MemoryState {
    return JSON.parse(JSON.stringify(this.state)) as MemoryState;
  }
}

export class LinearMemory extends ReplayMemory {
  constructor(capacity: number, items: MemoryItem[] = []) {
    super({ kind: "lm", capacity, topK: 0, gamma: 0.5, items });
  }
}

export class DynamicMemory extends ReplayMemory {
  constructor(capacity: number, gamma = 0.5, items: MemoryItem[] = [], maxNumSeen = 0) {
    super({ kind: "dm", capacity, topK: 0, gamma, items, ...(maxNumSeen > 0 ? { maxNumSeen } : {}) });
  }
}

export class SelectiveMemory extends ReplayMemory {
  constructor(capacity: number, topK = 4, gamma = 0.5, items: MemoryItem[] = [], maxNumSeen = 0) {
    super({ kind: "sm", capacity, topK, gamma, items, ...(maxNumSeen > 0 ? { maxNumSeen } : {}) });
  }
}

export function memoryFromState(state: MemoryState): ReplayMemory {
  const copy = JSON.parse(JSON.stringify(state)) as MemoryState;
  if (copy.kind === "lm") return new LinearMemory(copy.capacity, copy.items);
  if (copy.kind === "dm") return new DynamicMemory(copy.capacity, copy.gamma, copy.items, copy.maxNumSeen ?? 0);
  if (copy.kind === "sm") return new SelectiveMemory(copy.capacity, copy.topK, copy.gamma, copy.items, copy.maxNumSeen ?? 0);
  throw new Error(`unknown memory kind ${JSON.stringify((copy as { kind: unknown }).kind)}`);
}

/** `maxNumSeen`: the reference's `limit_num_seen_coeff * S` for DM/SM (0: off, the default). */
export function createMemory(kind: MemoryKind, capacity: number, topK = 4, gamma = 0.5, maxNumSeen = 0): ReplayMemory {
  return memoryFromState({ kind, capacity, topK, gamma, items: [], ...(maxNumSeen > 0 ? { maxNumSeen } : {}) });
}
