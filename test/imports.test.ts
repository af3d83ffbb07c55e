import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync, readdirSync, statSync } from "node:fs";
import { dirname, join, normalize, relative } from "node:path";
import { kitRoot } from "../src/util/paths.js";

/** The layers of src/, from the bottom (docs/architecture.md#the-import-direction). */
const LAYERS = ["data", "model", "memory", "train", "eval", "report", "experiments"];
/** Below every layer: importable from anywhere in src/. */
const BASE = ["util", "kernels", "backend.js", "profiles.js", "env.js"];

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = join(dir, f);
    return statSync(p).isDirectory() ? sources(p) : p.endsWith(".ts") ? [p] : [];
  });
}

test("imports run one way: data -> model -> memory -> train -> eval -> report -> experiments", () => {
  const src = join(kitRoot(), "src");
  const wrong: string[] = [];
  for (const file of sources(src)) {
    const layer = relative(src, file).split("/")[0];
    const rank = LAYERS.indexOf(layer);
    if (rank < 0 && layer !== "notebook") continue; // cli, index.ts and the base may import anything they need
    for (const m of readFileSync(file, "utf8").matchAll(/from "(\.{1,2}\/[^"]+)"/g)) {
      const target = relative(src, normalize(join(dirname(file), m[1])));
      if (target.startsWith("..")) {
        if (!target.startsWith(join("..", "assets"))) wrong.push(`${relative(src, file)} imports ${m[1]} (outside src/)`);
        continue;
      }
      const top = target.split("/")[0];
      if (BASE.includes(top) || top === layer) continue;
      if (layer === "notebook") {
        wrong.push(`${relative(src, file)} imports ${m[1]} (the Jupyter client uses only the base)`);
        continue;
      }
      const targetRank = LAYERS.indexOf(top);
      if (targetRank < 0 || targetRank > rank) wrong.push(`${relative(src, file)} imports ${m[1]} (${top} is above ${layer})`);
    }
  }
  assert.deepEqual(wrong, []);
});

test("the base stays below the layers: env imports nothing, util only env, kernels only util and env, backend only those, profiles only data's constants", () => {
  const src = join(kitRoot(), "src");
  // What each base module may import (docs/architecture.md#the-import-direction).
  const allowed: Record<string, string[]> = {
    "env.js": [],
    util: ["util", "env.js"],
    kernels: ["kernels", "util", "env.js"],
    "backend.js": ["kernels", "util", "env.js"],
    "profiles.js": ["data/ontology.js", "data/volume.js"],
  };
  const wrong: string[] = [];
  for (const file of sources(src)) {
    const rel = relative(src, file).replace(/\.ts$/, ".js");
    const base = Object.keys(allowed).find((b) => rel === b || rel.startsWith(`${b}/`));
    if (!base) continue;
    for (const m of readFileSync(file, "utf8").matchAll(/from "(\.{1,2}\/[^"]+)"/g)) {
      const target = relative(src, normalize(join(dirname(file), m[1])));
      if (target.startsWith("..")) continue; // assets and dist paths: checked above
      if (!allowed[base].some((a) => target === a || target.startsWith(`${a}/`))) wrong.push(`${relative(src, file)} imports ${m[1]}`);
    }
  }
  assert.deepEqual(wrong, []);
});
