/**
 * What distinguishes the three memories (Avalanche's split of buffer and selection strategy): how items
 * age when cases arrive, what an observation records, and which items a full memory removes. The buffer
 * itself (src/memory/memory.ts) is the same for all three; the removal choice is a pure function of state.
 */
import type { MemoryItem, MemoryState, Observation } from "../item.js";
import type { RemovalDecision } from "../removal.js";

export interface MemoryPolicy {
  /** The short name used in configs, run keys and the CLI ("lm"). */
  kind: string;
  /** The paper's label in tables and figures ("LM"). */
  label: string;
  /** One line for `--help` and the docs. */
  description: string;
  /** Whether every item's lifespan grows by one when cases arrive (DM/SM; LM keeps FIFO order instead). */
  agesOnArrival: boolean;
  /** Whether the optional `limit_num_seen_coeff` rule applies (DM/SM in the reference). */
  limitsNumSeen: boolean;
  /** Record what a training step saw of an item (`gamma`: Polyak weight of the new value). */
  record(it: MemoryItem, obs: Observation, gamma: number): void;
  /** The entropy Figure 3 places an item at (SM: its stored one; LM/DM: the monitoring one), if any. */
  figureEntropy(it: MemoryItem): number | undefined;
  /** Which `r` items leave a memory that holds `r` more than its capacity (r >= 1). */
  chooseRemovals(state: MemoryState, r: number): RemovalDecision;
}

/** Polyak average: the first value as it is, later ones (1 - gamma) old + gamma new. */
export function polyak(old: number | undefined, v: number, gamma: number): number {
  return old === undefined ? v : (1 - gamma) * old + gamma * v;
}
