/**
 * Selective Memory (SM): keeps unique and challenging cases. As DM, plus the entropy (the BCE term,
 * Polyak-averaged); the floor(#seen / K) highest-entropy seen items are kept out of the max-coverage
 * candidates (K = 4: the paper's "top 25%"), though the lifespan fallback may still remove them.
 */
import { coverageRemovals, topBy } from "../removal.js";
import { recordLossAndFeature } from "./dynamic.js";
import { polyak, type MemoryPolicy } from "./policy.js";

export const selectivePolicy: MemoryPolicy = {
  kind: "sm",
  label: "SM",
  description: "selective memory: keeps unique and high-entropy cases (top 1/K protected)",
  agesOnArrival: true,
  limitsNumSeen: true,
  record(it, obs, gamma) {
    recordLossAndFeature(it, obs, gamma);
    it.entropy = polyak(it.seen ? it.entropy : undefined, obs.entropy, gamma);
  },
  figureEntropy: (it) => it.entropy,
  chooseRemovals(state, r) {
    const items = state.items;
    const seen = items.map((_, p) => p).filter((p) => items[p].seen);
    const k = state.topOneInK;
    const guarded = k >= 1 && seen.length >= k ? topBy(seen, (p) => items[p].entropy ?? -Infinity, Math.floor(seen.length / k)) : [];
    return coverageRemovals(state, r, guarded);
  },
};
