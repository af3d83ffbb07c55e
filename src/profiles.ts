/**
 * Run profiles (docs/method.md#profiles). `smoke`: tiny everything, for tests and CI. `mini`: the CPU
 * reproduction on synthetic phantoms. `paper`: the paper's settings on real data with a GPU.
 */
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

export interface Profile {
  name: ProfileName;
  /** Spacing the prepared cases are resampled to, mm. */
  prepSpacing: Vec3;
  /** Training patch (sliding-window size at evaluation). */
  roi: Vec3;
  phantom?: PhantomProfile;
}

export const PROFILES: Record<ProfileName, Profile> = {
  smoke: {
    name: "smoke",
    prepSpacing: [7.5, 7.5, 7.5],
    roi: [16, 16, 8],
    phantom: { spacing: [7.5, 7.5, 7.5], caseScale: 0, minTrainPerSite: 2, minTestPerSite: 1, singleSiteTrain: 4, singleSiteTest: 2 },
  },
  mini: {
    name: "mini",
    prepSpacing: [6, 6, 6],
    roi: [32, 32, 16],
    phantom: { spacing: [6, 6, 6], caseScale: 0.02, minTrainPerSite: 3, minTestPerSite: 2, singleSiteTrain: 16, singleSiteTest: 6 },
  },
  paper: {
    name: "paper",
    prepSpacing: [1.5, 1.5, 1.5],
    roi: [96, 96, 96],
  },
};

export function profileByName(name: string): Profile {
  const p = (PROFILES as Record<string, Profile>)[name];
  if (!p) throw new Error(`unknown profile "${name}"; choose one of ${Object.keys(PROFILES).join(", ")}`);
  return p;
}
