/** A small prepared smoke stream, made once per test process. */
import { join } from "node:path";
import { runPhantomSet } from "../src/data/prep/phantom-set.js";
import { runPrep } from "../src/data/prep/prep.js";
import { PROFILES } from "../src/profiles.js";
import { tempDir } from "./helpers.js";

let cached: string | undefined;

/** Sites D1..D5 plus the single-site set, smoke sizes, prepared at the smoke spacing. */
export function smokePrepared(): string {
  if (cached) return cached;
  const raw = tempDir("massive-phantom-");
  const out = tempDir("massive-prepared-");
  const quiet = () => {};
  runPhantomSet({ out: raw, seed: 11, profile: PROFILES.smoke.phantom!, sites: ["D1", "D2", "D3", "D4", "D5"], log: quiet });
  for (const list of ["stream_train.txt", "stream_test.txt"]) {
    runPrep({ list: join(raw, list), root: raw, out, spacing: PROFILES.smoke.prepSpacing, labelMapping: "template", minShape: PROFILES.smoke.roi, log: quiet });
  }
  for (const list of ["single-site_train.txt", "single-site_test.txt"]) {
    runPrep({
      list: join(raw, list),
      root: raw,
      out,
      spacing: PROFILES.smoke.prepSpacing,
      labelMapping: "template",
      minShape: PROFILES.smoke.roi,
      site: "S1",
      log: quiet,
    });
  }
  return (cached = out);
}
