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
  entropy: number | null;
  numSeen: number;
  lifespan: number;
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

  /** Step 5: record what training saw for a case still in memory (Polyak averaging after the first time). */
  observe(idx: number, obs: Observation): void {
    const it = this.state.items.find((x) => x.idx === idx);
    if (!it) return; // it left memory meanwhile
    const g = this.state.gamma;
    const f = l2normalise(obs.feature);
    if (!it.seen) {
      it.loss = obs.loss;
      it.entropy = obs.entropy;
      it.feature = f;
    } else {
      it.loss = (1 - g) * (it.loss ?? obs.loss) + g * obs.loss;
      it.entropy = (1 - g) * (it.entropy ?? obs.entropy) + g * obs.entropy;
      it.feature = l2normalise(it.feature!.map((v, i) => (1 - g) * v + g * f[i]));
    }
    it.seen = true;
    it.numSeen += 1;
    this.updateNearestNeighbours();
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
    return this.state.items.map((x) => ({ idx: x.idx, site: x.site, entropy: x.entropy ?? null, numSeen: x.numSeen, lifespan: x.lifespan }));
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
  constructor(capacity: number, gamma = 0.5, items: MemoryItem[] = []) {
    super({ kind: "dm", capacity, topK: 0, gamma, items });
  }
}

export class SelectiveMemory extends ReplayMemory {
  constructor(capacity: number, topK = 4, gamma = 0.5, items: MemoryItem[] = []) {
    super({ kind: "sm", capacity, topK, gamma, items });
  }
}

export function memoryFromState(state: MemoryState): ReplayMemory {
  const copy = JSON.parse(JSON.stringify(state)) as MemoryState;
  if (copy.kind === "lm") return new LinearMemory(copy.capacity, copy.items);
  if (copy.kind === "dm") return new DynamicMemory(copy.capacity, copy.gamma, copy.items);
  if (copy.kind === "sm") return new SelectiveMemory(copy.capacity, copy.topK, copy.gamma, copy.items);
  throw new Error(`unknown memory kind ${JSON.stringify((copy as { kind: unknown }).kind)}`);
}

export function createMemory(kind: MemoryKind, capacity: number, topK = 4, gamma = 0.5): ReplayMemory {
  return memoryFromState({ kind, capacity, topK, gamma, items: [] });
}
