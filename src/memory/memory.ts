/**
 * The replay memory's buffer, the same for Linear (FIFO), Dynamic (unique samples) and Selective (unique and
 * challenging samples) memories: what differs is the policy (src/memory/policies/), chosen by the state's
 * `kind`. State is plain JSON; removals are pure functions of it (removal.ts); randomness comes from the
 * Rng the caller passes.
 */
import type { Rng } from "../util/rng.js";
import { dot, type MemoryItem, type MemoryKind, type MemoryState, type Observation } from "./item.js";
import { MEMORY_POLICIES, isMemoryKind, type MemoryPolicy } from "./policies/index.js";
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
  readonly policy: MemoryPolicy;

  constructor(readonly state: MemoryState) {
    if (!isMemoryKind(state.kind))
      throw new Error(`unknown memory kind ${JSON.stringify(state.kind)}; choose one of ${Object.keys(MEMORY_POLICIES).join(", ")}`);
    if (!(state.capacity >= 1)) throw new Error(`memory capacity must be >= 1, got ${state.capacity}`);
    if (state.kind === "sm" && !(state.topOneInK >= 1)) throw new Error(`SelectiveMemory needs top 1/K with K >= 1, got ${state.topOneInK}`);
    this.policy = MEMORY_POLICIES[state.kind];
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
    if (this.policy.agesOnArrival) for (const it of this.state.items) it.lifespan += 1;
  }

  /** Step 3: shrink to capacity by the policy's rule. */
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
   * Step 5: record what training saw for a case still in memory, as the reference's update_sample_stats
   * (each policy's `record`: LM overwrites `loss`; DM stores `loss` and the L2-normalised `feature`; SM
   * also `entropy`). Then, when `maxNumSeen` is set (DM/SM), items seen that many times leave memory.
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
      this.policy.record(it, obs[k], this.state.gamma);
      it.seen = true;
      it.numSeen += 1;
      any = true;
    });
    const max = this.state.maxNumSeen ?? 0;
    if (max > 0 && this.policy.limitsNumSeen) this.state.items = this.state.items.filter((x) => x.numSeen < max);
    if (any) this.updateNearestNeighbours();
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
    return this.state.items.map((x) => ({ idx: x.idx, site: x.site, entropy: this.policy.figureEntropy(x) ?? null, numSeen: x.numSeen, lifespan: x.lifespan }));
  }

  toJSON(): MemoryState {
    return JSON.parse(JSON.stringify(this.state)) as MemoryState;
  }
}

/** A memory from its saved state (a copy); states saved before the rename carry `topK` for `topOneInK`. */
export function memoryFromState(state: MemoryState): ReplayMemory {
  const copy = JSON.parse(JSON.stringify(state)) as MemoryState & { topK?: number };
  if (copy.topOneInK === undefined && copy.topK !== undefined) copy.topOneInK = copy.topK;
  delete copy.topK;
  return new ReplayMemory(copy);
}

/** `maxNumSeen`: the reference's `limit_num_seen_coeff * S` for DM/SM (0: off, the default). */
export function createMemory(kind: MemoryKind, capacity: number, topOneInK = 4, gamma = 0.5, maxNumSeen = 0): ReplayMemory {
  return memoryFromState({ kind, capacity, topOneInK, gamma, items: [], ...(maxNumSeen > 0 ? { maxNumSeen } : {}) });
}
