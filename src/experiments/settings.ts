/** What each notebook runs, per profile (docs/method.md#the-experiments, docs/method.md#profiles). */
import { join } from "node:path";
import { profileByName, type ExperimentSizes, type ProfileName } from "../profiles.js";
import { env } from "../env.js";
import { kitRoot } from "../util/paths.js";

/** A profile's experiment sizes (src/profiles.ts) with the folders they read and write. */
export interface ExperimentSettings extends ExperimentSizes {
  profile: ProfileName;
  /** Scratch: the synthetic data, run folders (checkpoints), progress.log. */
  workDir: string;
  /** The per-run results (one small JSON per run); tracked in git for the committed profile (mini). */
  resultsDir: string;
  figuresDir: string;
}

export function experimentSettings(profile: ProfileName): ExperimentSettings {
  if (profile === "paper") {
    throw new Error("the paper profile runs on real data with a GPU: prepare PAOT with massive prep and call massive train (see README)");
  }
  profileByName(profile);
  const root = kitRoot();
  // MASSIVE_FIGURES / MASSIVE_WORK move the outputs (tests use temporary folders).
  const figuresDir = env("MASSIVE_FIGURES") ?? (profile === "mini" ? join(root, "figures") : join(root, "work", profile, "figures"));
  const work = env("MASSIVE_WORK");
  const workDir = work ? join(work, profile) : join(root, "work", profile);
  // The committed reproduction's results travel in git (results/mini), so a fresh clone rebuilds every
  // figure and REPORT.md without training; other profiles, and any run with MASSIVE_WORK set (tests),
  // keep theirs in the work folder. MASSIVE_RESULTS moves them anywhere.
  const resultsDir = env("MASSIVE_RESULTS") ?? (profile === "mini" && !env("MASSIVE_WORK") ? join(root, "results", profile) : join(workDir, "results"));
  const sizes = profileByName(profile).experiments;
  if (!sizes) throw new Error(`profile ${profile} has no notebook experiments`);
  return { profile, ...structuredClone(sizes), workDir, resultsDir, figuresDir };
}

/** The profile a notebook runs: MASSIVE_PROFILE, default mini. */
export function notebookProfile(): ProfileName {
  const p = env("MASSIVE_PROFILE") ?? "mini";
  return profileByName(p).name;
}
