/**
 * The memories' removal rules as pure functions of state (no tfjs): which items leave when the memory
 * holds more than its capacity. Positions index `state.items` (oldest first). Each policy
 * (src/memory/policies/) picks its rule; `chooseRemovals` asks the state's policy.
 */
import { maxCoverageRemovals } from "./coverage.js";
import type { MemoryState } from "./item.js";
import { MEMORY_POLICIES } from "./policies/index.js";

export interface RemovalDecision {
  /** Positions of items to remove. */
  remove: number[];
  /** Which rule decided: "fifo", "lifespan" (the < 2r fallback), "coverage", or "none". */
  rule: "fifo" | "lifespan" | "coverage" | "none";
  /** SM: positions kept out of the max-coverage candidates for their entropy in this step (the lifespan fallback may still remove them, as the reference). */
  protected: number[];
}

/** Positions sorted by a key, descending, ties broken by position (older first); the first `count`. */
export function topBy(positions: number[], key: (p: number) => number, count: number): number[] {
  return positions
    .slice()
    .sort((a, b) => key(b) - key(a) || a - b)
    .slice(0, count);
}

/** LM: the r oldest leave. */
export function fifoRemovals(_state: MemoryState, r: number): RemovalDecision {
  return { remove: Array.from({ length: r }, (_, i) => i), rule: "fifo", protected: [] };
}

/**
 * DM/SM: the r most redundant seen items by max coverage, the `guarded` ones excluded; with fewer than 2r
 * candidates, the r longest-lived among *all* items instead, unseen and guarded ones included (the
 * reference's SMBatchSampler.resize_memory sorts every item's lifespan).
 */
export function coverageRemovals(state: MemoryState, r: number, guarded: number[]): RemovalDecision {
  const items = state.items;
  const candidates = items.map((_, p) => p).filter((p) => items[p].seen && !guarded.includes(p));
  if (candidates.length < 2 * r) {
    const all = items.map((_, p) => p);
    return { remove: topBy(all, (p) => items[p].lifespan, r), rule: "lifespan", protected: guarded };
  }
  const picked = maxCoverageRemovals(
    candidates.map((p) => items[p].feature ?? []),
    r,
  );
  return { remove: picked.map((k) => candidates[k]), rule: "coverage", protected: guarded };
}

export function chooseRemovals(state: MemoryState): RemovalDecision {
  const r = state.items.length - state.capacity;
  if (r <= 0) return { remove: [], rule: "none", protected: [] };
  return MEMORY_POLICIES[state.kind].chooseRemovals(state, r);
}
