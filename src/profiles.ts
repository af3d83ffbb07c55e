/**
 * Run profiles (docs/method.md#profiles), one record each, the one home of their settings (nnU-Net's
 * plans): data preparation, phantoms, training defaults and the experiments' sizes. `smoke`: tiny
 * everything, for tests and CI. `mini`: the CPU reproduction on synthetic phantoms, sized on measured
 * learning curves (docs/sizing.md). `paper`: the paper's settings on real data with a GPU. The paper's
 * own facts (stream, ontology, optimiser) stay in assets/paot.json and are read from there.
 */
import { TRAINING } from "./data/ontology.js";
import type { Vec3 } from "./data/volume.js";

export type ProfileName = "smoke" | "mini" | "paper";

export interface PhantomProfile {
  /** Voxel spacing of generated phantoms, mm. */
  spacing: Vec3;
  /** Cases per site = max(min, round(paper count * scale)). */
  caseScale: number;
  minTrainPerSite: number;
  minTestPerSite: number;
  singleSiteTrain: number;
  singleSiteTest: number;
}

/** Channel widths [w0, w1, w2, w3, w4] of the U-Net: level 0 is 1->w0->w1, level k is w_k->w_k->w_(k+1). */
export type Widths = [number, number, number, number, number];

/** The paper's widths (Models Genesis UNet3D). */
export const PAPER_WIDTHS: Widths = [32, 64, 128, 256, 512];

/** Training defaults (src/train/config.ts builds a run's config from them). */
export interface TrainDefaults {
  widths: Widths;
  /**
   * Base learning rate. The paper's 1e-4 is for ~10^5 steps; the CPU profiles run ~10^3 steps per run,
   * so they use 1e-3 (a deviation, stated in the README). Not 3e-3 from the first step: there AdamW's
   * first steps kill the dynamic heads' hidden units and most classes are never learned
   * (docs/training-study.md). The mini profile had 2e-3 until its right- and left-kidney heads were
   * seen to merge in some seeds (one head firing on both kidneys); at 1e-3 that is rarer (4 of 40 Table 1
   * kidney scores below 0.85 against 9 of 40) and the stream learns more (docs/sizing.md, "Learning rate").
   */
  lr: number;
  /** Fraction of the budget with a linear learning-rate warm-up (0 in the reference). */
  warmup: number;
  memorySize: number;
  samplingRate: number;
  epochs: number;
  checkpointEvery: number;
  /** Data-parallel ranks of the online strategies (the paper ran 4 GPUs). */
  ranks: number;
}

/** What the notebooks run (src/experiments/settings.ts adds the folders). */
export interface ExperimentSizes {
  /** Training seeds; results are mean +/- sd over them, claims paired differences over them. */
  seeds: number[];
  /** Seed of the synthetic data set (fixed across training seeds). */
  phantomSeed: number;
  table1: { memorySizes: number[]; paperMemorySizes: number[]; samplingRate: number; epochs: number };
  table2: { memory: number; samplingRate: number; topOneInKs: number[]; epochs: number };
  forgettingSites: string[];
  snapshotSites: string[];
}

export interface Profile {
  name: ProfileName;
  /** Spacing the prepared cases are resampled to, mm. */
  prepSpacing: Vec3;
  /** Training patch (sliding-window size at evaluation). */
  roi: Vec3;
  phantom?: PhantomProfile;
  train: TrainDefaults;
  /** The notebooks' experiments (none for the paper profile: it runs on real data with massive train). */
  experiments?: ExperimentSizes;
}

const FIGURE_SITES = { forgettingSites: ["D8", "D12", "D13"], snapshotSites: ["D5", "D7"] };

export const PROFILES: Record<ProfileName, Profile> = {
  smoke: {
    name: "smoke",
    prepSpacing: [7.5, 7.5, 7.5],
    roi: [16, 16, 8],
    phantom: { spacing: [7.5, 7.5, 7.5], caseScale: 0, minTrainPerSite: 2, minTestPerSite: 1, singleSiteTrain: 4, singleSiteTest: 2 },
    train: { widths: [4, 8, 16, 32, 64], lr: 1e-3, warmup: 0, memorySize: 8, samplingRate: 2, epochs: 2, checkpointEvery: 10, ranks: 1 },
    experiments: {
      seeds: [1],
      phantomSeed: 1,
      table1: { memorySizes: [1, 2, 4], paperMemorySizes: [64, 128, 256], samplingRate: 2, epochs: 2 },
      table2: { memory: 4, samplingRate: 1, topOneInKs: [8, 4, 2], epochs: 1 },
      ...FIGURE_SITES,
    },
  },
  mini: {
    name: "mini",
    prepSpacing: [6, 6, 6],
    roi: [32, 32, 16],
    phantom: { spacing: [6, 6, 6], caseScale: 0.02, minTrainPerSite: 3, minTestPerSite: 2, singleSiteTrain: 16, singleSiteTest: 6 },
    train: { widths: [4, 8, 16, 32, 64], lr: 1e-3, warmup: 0.1, memorySize: 8, samplingRate: 6, epochs: 6, checkpointEvery: 50, ranks: 1 },
    experiments: {
      // Five seeds: the claims are judged on paired differences over seeds, and three leave most undecided.
      seeds: [1, 2, 3, 4, 5],
      phantomSeed: 1,
      // Sized on measured learning curves (docs/sizing.md). Memory sizes scale like the paper's 64 / 128 /
      // 256 (1 : 2 : 4); the repeated baseline gets E = S epochs, as the paper's 100 epochs match its S = 100.
      // Single-site: S = E = 100, as the paper (1600 steps a run; the repeated run's Organ average reaches
      // 0.80 by step 1600). Stream: S = E = 24 (1488 steps a run), which keeps the whole reproduction under
      // 2 h with --jobs 2 on 2 cores (1 h 49 min measured); its partial labels learn slowly (Organ average
      // ~0.15 at this length, as in the PyTorch twin; 0.55 at five times the length).
      table1: { memorySizes: [2, 4, 8], paperMemorySizes: [64, 128, 256], samplingRate: 100, epochs: 100 },
      table2: { memory: 8, samplingRate: 24, topOneInKs: [8, 4, 2], epochs: 24 },
      ...FIGURE_SITES,
    },
  },
  paper: {
    name: "paper",
    prepSpacing: [1.5, 1.5, 1.5],
    roi: [96, 96, 96],
    // The paper's setting: N 128, S 100, 4 GPUs, full widths.
    train: {
      widths: PAPER_WIDTHS,
      lr: TRAINING.lr,
      warmup: 0,
      memorySize: TRAINING.memorySizeN,
      samplingRate: TRAINING.samplingRateS,
      epochs: 100,
      checkpointEvery: 500,
      ranks: 4,
    },
  },
};

export function profileByName(name: string): Profile {
  const p = (PROFILES as Record<string, Profile>)[name];
  if (!p) throw new Error(`unknown profile "${name}"; choose one of ${Object.keys(PROFILES).join(", ")}`);
  return p;
}
