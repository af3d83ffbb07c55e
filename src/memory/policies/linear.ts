/** Linear Memory (LM): a FIFO queue; it keeps the latest loss only (no feature, no entropy), as the reference. */
import { fifoRemovals } from "../removal.js";
import { polyak, type MemoryPolicy } from "./policy.js";

export const linearPolicy: MemoryPolicy = {
  kind: "lm",
  label: "LM",
  description: "linear memory, FIFO: the newest N cases",
  agesOnArrival: false,
  limitsNumSeen: false,
  record(it, obs, gamma) {
    it.loss = obs.loss;
    // Monitoring only (Figure 3), never read by a decision: the reference's LM stores no entropy.
    it.monitorEntropy = polyak(it.seen ? it.monitorEntropy : undefined, obs.entropy, gamma);
  },
  figureEntropy: (it) => it.monitorEntropy,
  chooseRemovals: (state, r) => fifoRemovals(state, r),
};
