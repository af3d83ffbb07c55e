/** The synthetic data a profile's notebooks use, generated and prepared once under work/<profile>/. */
import { existsSync } from "node:fs";
import { join } from "node:path";
import { runPhantomSet } from "../data/prep/phantom-set.js";
import { runPrep } from "../data/prep/prep.js";
import { profileByName } from "../profiles.js";
import type { ExperimentSettings } from "./settings.js";

export interface ExperimentData {
  phantom: string;
  stream: string;
  singleSite: string;
}

export function ensureData(s: ExperimentSettings, log: (line: string) => void = () => {}): ExperimentData {
  const p = profileByName(s.profile);
  if (!p.phantom) throw new Error(`profile ${s.profile} has no synthetic data`);
  const phantom = join(s.workDir, "phantom");
  const stream = join(s.workDir, "prepared", "stream");
  const singleSite = join(s.workDir, "prepared", "single-site");
  const done = existsSync(join(phantom, "phantom.json")) && existsSync(join(stream, "manifest.json")) && existsSync(join(singleSite, "manifest.json"));
  if (!done) {
    log(`data: generating the ${s.profile} phantom stream in ${phantom}`);
    runPhantomSet({ out: phantom, seed: s.phantomSeed, profile: p.phantom, log });
    const prep = (lists: string[], out: string, site?: string) => {
      for (const l of lists)
        runPrep({ list: join(phantom, l), root: phantom, out, spacing: p.prepSpacing, labelMapping: "template", minShape: p.roi, site, log });
    };
    prep(["stream_train.txt", "stream_test.txt"], stream);
    prep(["single-site_train.txt", "single-site_test.txt"], singleSite, "S1");
  }
  return { phantom, stream, singleSite };
}
