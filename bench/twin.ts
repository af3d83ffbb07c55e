/**
 * `npm run twin`: train the kit on a prepared folder (the repeated baseline), record a trace (initial
 * weights; every step's patch, template organs, organ-ratio weights, learning rate and loss), replay the
 * trace in the PyTorch twin (bench/twin.py), and print both learning curves and the per-class test Dice
 * side by side. Same data, same crops, same loss and schedule: a gap between the two columns is the kit's
 * implementation, not the recipe. Both sides score the raw thresholded output (the kit's evaluation without
 * its post-processing, which the twin does not have).
 *
 * npm run twin -- --data <prepared dir> [--out work/twin] [--profile mini] [--epochs 60] [--seed 1]
 *   [--sites S1] [--no-augment] [--eval-every 240] [--dice rows|squared] [--init pytorch|he]
 *   [--eval-bn batch|running] [--blend logits|probabilities] [--lr 3e-3] [--twin-init kit|torch]
 *   [--twin-only] [--kit-only] [--seeds 1,2,3,4,5]
 * The settings apply to both sides; --twin-init torch lets PyTorch draw its own initial weights.
 * --seeds runs one pair per training seed into <out>/seed<N> (pairs already there are kept, so a killed
 * run continues) and ends with the paired kit - twin differences over the seeds, each with its 95% interval
 * and whether it lies within +-0.05 (the training study's agreement criterion).
 */
import { spawnSync } from "node:child_process";
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, writeFileSync, writeSync } from "node:fs";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { initBackend } from "../src/backend.js";
import { className, templateKeys, templateClasses } from "../src/data/ontology.js";
import { evaluateSplit } from "../src/eval/evaluate.js";
import { pairedDifference, verdictWithin } from "../src/eval/paired.js";
import type { DiceSummary } from "../src/eval/dice.js";
import type { UniversalUNet } from "../src/model/universal-unet.js";
import { profileByName, type ProfileName } from "../src/profiles.js";
import { CaseStore } from "../src/data/case-store.js";
import { defaultConfig, validateConfig } from "../src/train/config.js";
import type { DiceForm } from "../src/model/loss.js";
import type { InitScheme } from "../src/model/params.js";
import type { Blend } from "../src/eval/sliding-window.js";
import { createModel } from "../src/model/create.js";
import { train } from "../src/train/trainer.js";
import { assetPath, kitRoot } from "../src/util/paths.js";

interface CurvePoint {
  it: number;
  organAverage: number | null;
  perClass: Record<string, number>;
}

interface StepRecord {
  it: number;
  loss: number;
  /** Kit only: per organ of the (first) case's template, its Dice + BCE when the organ is in the patch. */
  organLoss?: Record<string, number>;
}

interface SideResult {
  steps: StepRecord[];
  evals: CurvePoint[];
  final: { organAverage: number | null; perClass: Record<string, number> };
  seconds: number;
  /** The twin only: the kit's final weights scored by the twin's evaluation. */
  kitWeights?: { organAverage: number | null; perClass: Record<string, number> };
}

const { values: a } = parseArgs({
  options: {
    data: { type: "string" },
    out: { type: "string", default: "work/twin" },
    profile: { type: "string", default: "mini" },
    epochs: { type: "string", default: "60" },
    seed: { type: "string", default: "1" },
    seeds: { type: "string" },
    sites: { type: "string" },
    "no-augment": { type: "boolean", default: false },
    "eval-every": { type: "string", default: "0" },
    dice: { type: "string", default: "rows" },
    init: { type: "string", default: "pytorch" },
    "eval-bn": { type: "string", default: "batch" },
    blend: { type: "string", default: "logits" },
    lr: { type: "string" },
    warmup: { type: "string" },
    "twin-init": { type: "string", default: "kit" },
    "twin-only": { type: "boolean", default: false },
    "kit-only": { type: "boolean", default: false },
    python: { type: "string", default: "/usr/bin/python3" },
  },
  strict: true,
});

function summaryPoint(it: number, s: DiceSummary): CurvePoint {
  return { it, organAverage: s.organAverage, perClass: Object.fromEntries(Object.entries(s.perClass).map(([k, v]) => [k, v.mean])) };
}

/** A model's weights as <name>.bin (float32, concatenated) + <name>.json (name, shape, offset), for twin.py. */
async function writeWeights(model: UniversalUNet, out: string, name: string): Promise<void> {
  const arrays = await model.params.exportArrays();
  let offset = 0;
  const index = arrays.map((x) => {
    const e = { name: x.name, shape: x.shape, offset };
    offset += x.values.length;
    return e;
  });
  const all = new Float32Array(offset);
  arrays.forEach((x, i) => all.set(x.values, index[i].offset));
  writeFileSync(join(out, `${name}.bin`), Buffer.from(all.buffer));
  writeFileSync(join(out, `${name}.json`), JSON.stringify(index));
}

async function runKit(data: string, out: string, seed: number): Promise<SideResult> {
  await initBackend({ log: (l) => process.stderr.write(l + "\n") });
  const profile = profileByName(a.profile!).name as ProfileName;
  const config = defaultConfig(profile, "repeated", {
    epochs: Number(a.epochs),
    seed,
    augment: !a["no-augment"],
    checkpointEvery: 1e9,
    dice: a.dice as DiceForm,
    ...(a.lr ? { lr: Number(a.lr) } : {}),
    ...(a.warmup ? { warmup: Number(a.warmup) } : {}),
  });
  config.model = { ...config.model, init: a.init as InitScheme, inferenceBatchNorm: a["eval-bn"] as "batch" | "running" };
  validateConfig(config);
  mkdirSync(out, { recursive: true });
  // Initial weights: the model is a pure function of the config's seed, so a fresh one equals train()'s.
  const init = createModel(config.model);
  await writeWeights(init, out, "init");
  init.dispose();
  const templates = Object.fromEntries(templateKeys().map((k) => [k, [...templateClasses(k)]]));
  writeFileSync(join(out, "trace.json"), JSON.stringify({ config, data, embedding: assetPath("txt_encoding.json"), templates }, null, 1));

  const images = openSync(join(out, "images.bin"), "w");
  const labels = openSync(join(out, "labels.bin"), "w");
  const stepsFile = openSync(join(out, "steps.jsonl"), "w");
  const store = new CaseStore(data, config.roi);
  const every = Number(a["eval-every"]);
  const blend = a.blend as Blend;
  const evals: CurvePoint[] = [];
  const steps: SideResult["steps"] = [];
  let pending: { organs: number[][]; weights: number[][]; lr: number } | undefined;
  let present: Set<number>[] = [];
  let model: UniversalUNet | undefined;
  const evalAt = async (it: number, model: UniversalUNet) => {
    const r = await evaluateSplit(model, store, config.roi, { progress: false, blend, postprocess: false });
    evals.push(summaryPoint(it, r.summary));
    process.stderr.write(`kit eval at step ${it}: organ average ${r.summary.organAverage?.toFixed(3)}\n`);
  };
  const t0 = performance.now();
  const result = await train({
    config,
    data,
    store,
    sites: a.sites?.split(","),
    log: (l) => process.stderr.write(l + "\n"),
    events: {
      onBatch: (e) => {
        model = e.model;
        for (const b of e.batch) {
          writeSync(images, Buffer.from(b.patch.image.buffer, b.patch.image.byteOffset, b.patch.image.byteLength));
          writeSync(labels, Buffer.from(b.patch.label.buffer, b.patch.label.byteOffset, b.patch.label.byteLength));
        }
        pending = { organs: e.batch.map((b) => b.organs), weights: e.batch.map((b) => b.weights), lr: e.lr };
        present = e.batch.map((b) => new Set(b.patch.label));
      },
      onStep: async (e) => {
        writeSync(stepsFile, JSON.stringify({ it: e.it, loss: e.loss, ...pending }) + "\n");
        const organLoss: Record<string, number> = {};
        pending!.organs[0].forEach((c, k) => present[0].has(c) && (organLoss[c] = e.organLoss[0][k]));
        steps.push({ it: e.it, loss: e.loss, organLoss });
        // Awaited by the trainer: the model does not change while it is evaluated.
        if (every > 0 && e.it % every === 0 && e.it < e.budget && model) await evalAt(e.it, model);
      },
    },
  });
  [images, labels, stepsFile].forEach(closeSync);
  const seconds = (performance.now() - t0) / 1000;
  const final = summaryPoint(result.state.it, (await evaluateSplit(result.model, store, config.roi, { progress: false, blend, postprocess: false })).summary);
  evals.push(final);
  await writeWeights(result.model, out, "final");
  result.dispose();
  const kit: SideResult = { steps, evals, final, seconds };
  writeFileSync(join(out, "kit.json"), JSON.stringify(kit));
  return kit;
}

function runTwin(data: string, out: string): SideResult {
  const args = [
    join(kitRoot(), "bench", "twin.py"),
    "--trace",
    out,
    "--data",
    data,
    "--out",
    join(out, "twin.json"),
    "--init",
    a["twin-init"]!,
    "--dice",
    a.dice!,
    "--eval-bn",
    a["eval-bn"]!,
    "--blend",
    a.blend === "logits" ? "logits" : "probs",
    "--eval-every",
    a["eval-every"]!,
  ];
  const r = spawnSync(a.python!, args, { stdio: ["ignore", "inherit", "inherit"] });
  if (r.error) throw new Error(`twin: cannot run ${a.python} (${r.error.message}); install python3-torch and python3-nibabel (Debian)`);
  if (r.status !== 0) throw new Error(`twin: ${a.python} bench/twin.py exited with ${r.status}`);
  return JSON.parse(readFileSync(join(out, "twin.json"), "utf8")) as SideResult;
}

/** Mean loss over windows of the run, the learning curve in a few numbers. */
function lossWindows(steps: { it: number; loss: number }[], n = 8): string[] {
  const size = Math.max(1, Math.ceil(steps.length / n));
  const out: string[] = [];
  for (let i = 0; i < steps.length; i += size) {
    const w = steps.slice(i, i + size);
    out.push(`${w[0].it}-${w[w.length - 1].it}: ${(w.reduce((s, x) => s + x.loss, 0) / w.length).toFixed(3)}`);
  }
  return out;
}

/** The kit's per-organ training loss (Dice + BCE, when the organ is in the patch), per window of the run. */
function printOrganCurves(kit: SideResult, n = 8): void {
  const size = Math.max(1, Math.ceil(kit.steps.length / n));
  const organs = [...new Set(kit.steps.flatMap((s) => Object.keys(s.organLoss ?? {})))].map(Number).sort((x, y) => x - y);
  if (!organs.length) return;
  console.log(`\nkit: per-organ training loss (Dice + BCE, patches that contain the organ), mean per window of ${size} steps`);
  for (const c of organs) {
    const cells: string[] = [];
    for (let i = 0; i < kit.steps.length; i += size) {
      const v = kit.steps
        .slice(i, i + size)
        .map((s) => s.organLoss?.[c])
        .filter((x): x is number => x !== undefined);
      cells.push(v.length ? (v.reduce((a, b) => a + b, 0) / v.length).toFixed(2) : "  - ");
    }
    console.log(`  ${`${c} ${className(c)}`.padEnd(24)} ${cells.join(" ")}`);
  }
}

function printSideBySide(kit: SideResult, twin: SideResult): void {
  const fmt = (v: number | null | undefined) => (v === null || v === undefined ? "   -  " : v.toFixed(3).padStart(6));
  console.log(`\nmean training loss per window (kit | twin)`);
  const kw = lossWindows(kit.steps);
  const tw = lossWindows(twin.steps);
  kw.forEach((k, i) => console.log(`  ${k.padEnd(20)} | ${tw[i] ?? ""}`));
  if (kit.evals.length > 1) {
    console.log(`\norgan average on the test split during training (kit | twin)`);
    kit.evals.forEach((e, i) => console.log(`  step ${String(e.it).padStart(5)}  ${fmt(e.organAverage)} | ${fmt(twin.evals[i]?.organAverage)}`));
  }
  printOrganCurves(kit);
  console.log(`\nper-class test Dice after ${kit.steps.length} steps`);
  // kitW: the kit's final weights scored by the twin's evaluation (equal to "kit" when the evaluations agree).
  const kitW = twin.kitWeights;
  console.log(`  ${"class".padEnd(24)}   kit    twin   kit-twin${kitW ? "   kit weights in twin's evaluation" : ""}`);
  const ids = [...new Set([...Object.keys(kit.final.perClass), ...Object.keys(twin.final.perClass)])].map(Number).sort((x, y) => x - y);
  for (const id of ids) {
    const k = kit.final.perClass[id];
    const t = twin.final.perClass[id];
    console.log(
      `  ${`${id} ${className(id)}`.padEnd(24)} ${fmt(k)}  ${fmt(t)}  ${k !== undefined && t !== undefined ? (k - t >= 0 ? "+" : "") + (k - t).toFixed(3) : "      "}${kitW ? `   ${fmt(kitW.perClass[id])}` : ""}`,
    );
  }
  console.log(
    `  ${"organ average".padEnd(24)} ${fmt(kit.final.organAverage)}  ${fmt(twin.final.organAverage)}          ${kitW ? `   ${fmt(kitW.organAverage)}` : ""}`,
  );
  console.log(`\nkit ${kit.seconds.toFixed(0)} s, twin ${twin.seconds.toFixed(0)} s`);
}

/** A pair already in dir, when its trace was made with this data, seed and number of epochs; else an error naming what changed. */
function finishedPair(dir: string, data: string, seed: number): { kit: SideResult; twin: SideResult } | undefined {
  if (!["twin.json", "kit.json", "trace.json"].every((f) => existsSync(join(dir, f)))) return undefined;
  const trace = JSON.parse(readFileSync(join(dir, "trace.json"), "utf8")) as { data: string; config: { seed: number; epochs: number } };
  const want = { data, seed, epochs: Number(a.epochs) };
  const have = { data: trace.data, seed: trace.config.seed, epochs: trace.config.epochs };
  if (JSON.stringify(want) !== JSON.stringify(have)) {
    throw new Error(`twin: ${dir} holds a pair made with ${JSON.stringify(have)}, not ${JSON.stringify(want)}; choose another --out or remove it`);
  }
  return {
    kit: JSON.parse(readFileSync(join(dir, "kit.json"), "utf8")) as SideResult,
    twin: JSON.parse(readFileSync(join(dir, "twin.json"), "utf8")) as SideResult,
  };
}

/** Kit - twin over seeds, per class: the mean difference, its 95% interval, and agreement within +-margin. */
function printPairs(pairs: { seed: number; kit: SideResult; twin: SideResult }[], margin = 0.05): void {
  const f = (v: number | null) => (v === null ? "   -  " : (v >= 0 ? "+" : "") + v.toFixed(3));
  console.log(`
kit - twin over ${pairs.length} seeds (${pairs.map((p) => p.seed).join(", ")}): mean difference [95% interval], and whether it lies within +-${margin}`);
  const row = (label: string, get: (r: SideResult["final"]) => number | null | undefined) => {
    const d = pairedDifference(pairs.map((p) => [get(p.kit.final) ?? null, get(p.twin.final) ?? null] as const));
    // Each side's mean over the seeds that scored the class (a class absent from a test split is no 0).
    const mean = (side: "kit" | "twin") => {
      const v = pairs.map((p) => get(p[side].final)).filter((x): x is number => typeof x === "number");
      return v.length ? (v.reduce((s, x) => s + x, 0) / v.length).toFixed(3) : "  -  ";
    };
    console.log(`  ${label.padEnd(24)} kit ${mean("kit")}  twin ${mean("twin")}  ${f(d.mean)} [${f(d.lo)}, ${f(d.hi)}]  within: ${verdictWithin(d, margin)}`);
  };
  row("organ average", (r) => r.organAverage);
  const ids = [...new Set(pairs.flatMap((p) => Object.keys(p.kit.final.perClass)))].map(Number).sort((x, y) => x - y);
  for (const id of ids) row(`${id} ${className(id)}`, (r) => r.perClass[id]);
}

async function main() {
  if (!a.data) throw new Error("twin: --data <prepared dir> is required (e.g. from massive prep)");
  const data = resolve(a.data);
  const out = resolve(a.out!);
  if (!existsSync(join(data, "manifest.json"))) throw new Error(`twin: ${data} has no manifest.json (run massive prep first)`);
  if (a.seeds) {
    if (a["twin-only"] || a["kit-only"]) throw new Error("twin: --seeds runs both sides of each pair; it does not combine with --twin-only or --kit-only");
    const seeds = a.seeds.split(",").map(Number);
    if (seeds.some((s) => !Number.isInteger(s))) throw new Error(`twin: --seeds wants integers separated by commas, got "${a.seeds}"`);
    const pairs: { seed: number; kit: SideResult; twin: SideResult }[] = [];
    for (const seed of seeds) {
      const dir = join(out, `seed${seed}`);
      let pair = finishedPair(dir, data, seed);
      if (pair) console.log(`twin: seed ${seed}: pair already in ${dir}`);
      else {
        console.log(`twin: seed ${seed}: kit, then the PyTorch twin, into ${dir}`);
        const kit = await runKit(data, dir, seed);
        pair = { kit, twin: runTwin(data, dir) };
        console.log(`twin: seed ${seed}: organ average kit ${kit.final.organAverage?.toFixed(3)}, twin ${pair.twin.final.organAverage?.toFixed(3)}`);
      }
      pairs.push({ seed, ...pair });
    }
    printPairs(pairs);
    return;
  }
  const kit = a["twin-only"] ? (JSON.parse(readFileSync(join(out, "kit.json"), "utf8")) as SideResult) : await runKit(data, out, Number(a.seed));
  if (a["kit-only"]) {
    console.log(`kit: organ average ${kit.final.organAverage?.toFixed(3)}; loss ${lossWindows(kit.steps).join(", ")}`);
    printOrganCurves(kit);
    console.log(
      `per class: ${Object.entries(kit.final.perClass)
        .map(([c, v]) => `${c} ${v.toFixed(2)}`)
        .join(", ")}`,
    );
    return;
  }
  const twin = runTwin(data, out);
  printSideBySide(kit, twin);
}

main().catch((e) => {
  console.error((e as Error).message);
  process.exit(1);
});
