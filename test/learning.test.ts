import { test } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { runPhantomSet } from "../src/data/prep/phantom-set.js";
import { runPrep } from "../src/data/prep/prep.js";
import { className } from "../src/data/ontology.js";
import { evaluateSplit } from "../src/eval/evaluate.js";
import { PROFILES } from "../src/profiles.js";
import { defaultConfig } from "../src/train/config.js";
import { train } from "../src/train/trainer.js";
import { tempDir } from "./helpers.js";

/**
 * The networks learn (docs/training-study.md): the mini profile's repeated baseline on the single-site mini
 * phantoms (16 training cases, all 16 template organs labelled) learns at least five organs to Dice >= 0.7
 * on the held-out cases. At the old learning rate (3e-3) the dynamic heads died and only the liver and
 * spleen were learned; this test fails there.
 */
test("learning: five or more organs reach Dice 0.7 on held-out single-site phantoms", async () => {
  const raw = tempDir("massive-learn-phantom-");
  const data = tempDir("massive-learn-prepared-");
  const quiet = () => {};
  const mini = PROFILES.mini;
  runPhantomSet({ out: raw, seed: 1, profile: mini.phantom!, sites: ["D1"], log: quiet });
  for (const list of ["single-site_train.txt", "single-site_test.txt"]) {
    runPrep({ list: join(raw, list), root: raw, out: data, spacing: mini.prepSpacing, labelMapping: "template", minShape: mini.roi, site: "S1", log: quiet });
  }
  const config = defaultConfig("mini", "repeated", { epochs: LEARNING_EPOCHS, augment: false, checkpointEvery: 100_000, seed: 1 });
  const r = await train({ config, data, sites: ["S1"], progress: false, log: quiet });
  const ev = await evaluateSplit(r.model, r.store, config.roi, { progress: false });
  r.dispose();
  const learned = Object.entries(ev.summary.perClass).filter(([, v]) => v.mean >= 0.7);
  const table = Object.entries(ev.summary.perClass)
    .map(([k, v]) => `${className(Number(k))} ${v.mean.toFixed(2)}`)
    .join(", ");
  assert.ok(learned.length >= 5, `only ${learned.length} organs at Dice >= 0.7 after ${r.state.it} steps: ${table}`);
});

/** 16 cases x 40 epochs = 640 steps, about 2.5 minutes on 2 cores. */
const LEARNING_EPOCHS = 40;
