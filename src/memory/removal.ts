/**
 * The memories' removal rule as a pure function of state (no tfjs): which items leave when the memory
 * holds more than its capacity. Positions index `state.items` (oldest first).
 */
import { maxCoverageRemovals } from "./coverage.js";
import type { MemoryState } from "./item.js";

export interface RemovalDecision {
  /** Positions of items to remove. */
  remove: number[];
  /** Which rule decided: "fifo", "lifespan" (the < 2r fallback), "coverage", or "none". */
  rule: "fifo" | "lifespan" | "coverage" | "none";
  /** SM: positions kept out of the max-coverage candidates for their entropy in this step (the lifespan fallback may still remove them, as the reference). */
  protected: number[];
}

/** Positions sorted by a key, descending, ties broken by position (older first). */
function topBy(positions: number[], key: (p: number) => number, count: number): number[] {
  return positions
    .slice()
    .sort((a, b) => key(b) - key(a) || a - b)
    .slice(0, count);
}

export function chooseRemovals(state: MemoryState): RemovalDecision {
  const items = state.items;
  const r = items.length - state.capacity;
  if (r <= 0) return { remove: [], rule: "none", protected: [] };
  if (state.kind === "lm") return { remove: Array.from({ length: r }, (_, i) => i), rule: "fifo", protected: [] };

  let candidates = items.map((_, p) => p).filter((p) => items[p].seen);
  let protectedPos: number[] = [];
  if (state.kind === "sm" && state.topK >= 1 && candidates.length >= state.topK) {
    // Protect the floor(#candidates / K) highest-entropy candidates: hard cases stay.
    protectedPos = topBy(candidates, (p) => items[p].entropy ?? -Infinity, Math.floor(candidates.length / state.topK));
    candidates = candidates.filter((p) => !protectedPos.includes(p));
  }
  if (candidates.length < 2 * r) {
    // Too few candidates to judge redundancy: the r longest-lived among *all* items leave, unseen and
    // protected ones included (the reference's SMBatchSampler.resize_memory sorts every item's lifespan).
    const all = items.map((_, p) => p);
    return { remove: topBy(all, (p) => items[p].lifespan, r), rule: "lifespan", protected: protectedPos };
  }
  const picked = maxCoverageRemovals(candidates.map((p) => items[p].feature ?? []), r);
  return { remove: picked.map((k) => candidates[k]), rule: "coverage", protected: protectedPos };
}
