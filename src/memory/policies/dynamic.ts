/**
 * Dynamic Memory (DM): keeps unique cases. It records each case's loss and L2-normalised pooled feature
 * (Polyak-averaged after the first time); a full memory removes the most redundant seen items by max
 * coverage, or the longest-lived when too few items have been seen.
 */
import { l2normalise } from "../item.js";
import { coverageRemovals } from "../removal.js";
import { polyak, type MemoryPolicy } from "./policy.js";
import type { MemoryItem, Observation } from "../item.js";

/** DM and SM: loss and feature, the first time as they are, later Polyak-averaged (feature re-normalised). */
export function recordLossAndFeature(it: MemoryItem, obs: Observation, gamma: number): void {
  const f = l2normalise(obs.feature);
  if (!it.seen || !it.feature) {
    it.loss = obs.loss;
    it.feature = f;
  } else {
    it.loss = polyak(it.loss, obs.loss, gamma);
    it.feature = l2normalise(it.feature.map((v, i) => (1 - gamma) * v + gamma * f[i]));
  }
}

export const dynamicPolicy: MemoryPolicy = {
  kind: "dm",
  label: "DM",
  description: "dynamic memory: keeps unique cases (max-coverage removal on features)",
  agesOnArrival: true,
  limitsNumSeen: true,
  record(it, obs, gamma) {
    recordLossAndFeature(it, obs, gamma);
    // Monitoring only (Figure 3), never read by a decision: the reference's DM stores no entropy.
    it.monitorEntropy = polyak(it.seen ? it.monitorEntropy : undefined, obs.entropy, gamma);
  },
  figureEntropy: (it) => it.monitorEntropy,
  chooseRemovals: (state, r) => coverageRemovals(state, r, []),
};
