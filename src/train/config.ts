/** Training configuration, its per-profile defaults, and validation with clear messages. */
import type { Vec3 } from "../data/volume.js";
import { MEMORY_KINDS, MEMORY_POLICIES, type MemoryKind } from "../memory/policies/index.js";
import type { ModelConfig } from "../model/universal-unet.js";
import { profileByName, type ProfileName } from "../profiles.js";
import { TRAINING } from "../data/ontology.js";
import type { DiceForm } from "../model/loss.js";

/** A memory policy (src/memory/policies) for the online protocol, or the repeated-epochs baseline. */
export type Strategy = MemoryKind | "repeated";

export const STRATEGIES: readonly Strategy[] = [...MEMORY_KINDS, "repeated"];

/** One line per strategy, for `--help` and error messages. */
export function describeStrategies(): string {
  return [...MEMORY_KINDS.map((k) => `${k} (${MEMORY_POLICIES[k].description})`), "repeated (epochs over the stored set, the baseline)"].join(", ");
}

export interface TrainConfig {
  profile: ProfileName;
  strategy: Strategy;
  /** Memory size N (online strategies). */
  memorySize: number;
  /** Sampling rate S: replays per arrival. */
  samplingRate: number;
  /** SM: protect the top 1/K by entropy; this is K (8 / 4 / 2 = top 12.5 / 25 / 50 %; `--top-k`). */
  topOneInK: number;
  /** Repeated baseline: epochs. */
  epochs: number;
  batchSize: number;
  lr: number;
  weightDecay: number;
  polyakGamma: number;
  roi: Vec3;
  model: ModelConfig;
  seed: number;
  /** Iterations between checkpoints. */
  checkpointEvery: number;
  /** Apply the paper's augmentations (false: crops only). */
  augment: boolean;
  /** Dice term of the loss (default "rows", the reference's). */
  dice: DiceForm;
  /**
   * DM/SM: the reference's `limit_num_seen_coeff` (off by default: absent or 0): items seen at least
   * coeff * S times leave memory after the step that saw them.
   */
  limitNumSeenCoeff?: number;
  /** Fraction of the budget spent warming the learning rate up linearly (0: none, as the reference). */
  warmup?: number;
  /**
   * Online strategies: the paper's R data-parallel GPUs emulated in one process (absent: 1, a config of
   * an older kit). Each rank takes an interleaved 1/R of the stream into its own memory of floor(N / R)
   * items (the reference's `int(memory_size / world_size)`), every step trains one batch per rank with
   * the gradients averaged, and the budget is counted per rank. Left out of the config when 1, so a
   * one-rank config is the same object (run keys, resume checks) as before the option existed.
   */
  ranks?: number;
}

export function defaultConfig(profile: ProfileName, strategy: Strategy, overrides: Partial<TrainConfig> = {}): TrainConfig {
  const p = profileByName(profile);
  const d = p.train;
  const seed = overrides.seed ?? 1;
  const cfg: TrainConfig = {
    profile,
    strategy,
    memorySize: d.memorySize,
    samplingRate: d.samplingRate,
    topOneInK: TRAINING.topKEntropy,
    epochs: d.epochs,
    batchSize: 1,
    lr: d.lr,
    warmup: d.warmup,
    weightDecay: TRAINING.weightDecay,
    polyakGamma: TRAINING.polyakGamma,
    roi: p.roi,
    model: { widths: d.widths, featureDim: 256, headChannels: 8, seed, init: "pytorch", inferenceBatchNorm: "batch" },
    seed,
    checkpointEvery: d.checkpointEvery,
    augment: true,
    dice: "rows",
    // The repeated baseline is not the reference's (no released code): it runs on one rank.
    ...(strategy !== "repeated" ? { ranks: d.ranks } : {}),
    ...overrides,
  };
  if (overrides.seed !== undefined && !overrides.model) cfg.model = { ...cfg.model, seed: overrides.seed };
  if (cfg.ranks === 1) delete cfg.ranks;
  validateConfig(cfg);
  return cfg;
}

export function validateConfig(c: TrainConfig): void {
  const bad = (m: string) => {
    throw new Error(`bad training config: ${m}`);
  };
  if (!STRATEGIES.includes(c.strategy)) bad(`strategy must be one of ${STRATEGIES.join(", ")}, got "${c.strategy}"`);
  const posInt = (v: number, name: string) => (!Number.isInteger(v) || v < 1) && bad(`${name} must be a positive integer, got ${v}`);
  posInt(c.memorySize, "memory size");
  posInt(c.samplingRate, "sampling rate");
  posInt(c.topOneInK, "top-k");
  posInt(c.epochs, "epochs");
  posInt(c.batchSize, "batch size");
  posInt(c.checkpointEvery, "checkpoint interval");
  if (!(c.lr > 0) || !Number.isFinite(c.lr)) bad(`lr must be positive, got ${c.lr}`);
  if (!(c.weightDecay >= 0)) bad(`weight decay must be >= 0, got ${c.weightDecay}`);
  if (!(c.polyakGamma > 0 && c.polyakGamma <= 1)) bad(`polyak gamma must be in (0, 1], got ${c.polyakGamma}`);
  if (c.warmup !== undefined && !(c.warmup >= 0 && c.warmup < 1)) bad(`warm-up must be a fraction in [0, 1), got ${c.warmup}`);
  if (c.limitNumSeenCoeff !== undefined && !(c.limitNumSeenCoeff >= 0 && Number.isFinite(c.limitNumSeenCoeff))) {
    bad(`limit-num-seen coefficient must be >= 0 (0: off), got ${c.limitNumSeenCoeff}`);
  }
  if (c.ranks !== undefined) {
    posInt(c.ranks, "ranks");
    if (c.ranks > 1 && c.strategy === "repeated")
      bad(`ranks apply to the online strategies (lm, dm, sm); the repeated baseline runs on one rank, got ${c.ranks}`);
    if (c.ranks > c.memorySize) bad(`memory size ${c.memorySize} is less than one item per rank (${c.ranks} ranks; each keeps floor(N / R))`);
  }
  if (c.dice !== "rows" && c.dice !== "squared") bad(`dice must be rows or squared, got "${String(c.dice)}"`);
  if (c.model.init !== undefined && c.model.init !== "pytorch" && c.model.init !== "he") bad(`model init must be pytorch or he, got "${String(c.model.init)}"`);
  if (c.model.inferenceBatchNorm !== undefined && !["batch", "running"].includes(c.model.inferenceBatchNorm)) {
    bad(`inference BatchNorm must be batch or running, got "${String(c.model.inferenceBatchNorm)}"`);
  }
  if (c.roi.length !== 3 || c.roi.some((r) => !Number.isInteger(r) || r < 8 || r % 8 !== 0)) bad(`patch size must be three multiples of 8, got ${c.roi}`);
  if (c.model.widths.length !== 5 || c.model.widths.some((w) => !Number.isInteger(w) || w < 1))
    bad(`model widths must be 5 positive integers, got ${c.model.widths}`);
}

/** R: the data-parallel ranks of a config (an older kit's config, without the field, ran one). */
export function rankCount(c: Pick<TrainConfig, "ranks">): number {
  return c.ranks ?? 1;
}

/** Each rank's memory: floor(N / R) items, as the reference's `int(args.memory_size / world_size)`. */
export function memoryPerRank(c: Pick<TrainConfig, "memorySize" | "ranks">): number {
  return Math.floor(c.memorySize / rankCount(c));
}

/** A config saved by an older kit, in today's names (`topK` became `topOneInK`). */
export function upgradeConfig(c: TrainConfig): TrainConfig {
  const old = c as TrainConfig & { topK?: number };
  if (old.topOneInK !== undefined || old.topK === undefined) return c;
  const { topK, ...rest } = old;
  return { ...rest, topOneInK: topK };
}
