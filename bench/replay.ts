/**
 * Does a code change alter learning, or only rounding? Replays recorded twin traces (`npm run twin`'s
 * kit side: initial weights from the config's seed, every step's patch, template organs, organ-ratio
 * weights and learning rate) in the kit, once per arm (a MASSIVE_FUSED_OPS setting) and per perturbation
 * (one initial weight, the first element of the first convolution's filter, scaled by 1 + p), and scores
 * each final network on the trace's test split as twin.ts does.
 *
 * Why perturbations: at the mini profile's learning rate training amplifies rounding, so two runs that
 * differ by rounding alone end a few hundredths of organ average apart. The draws with p != 0 measure that
 * spread for each trace and arm; the arms are then compared per trace on the mean over their draws, with a
 * paired 95% interval over the traces (src/eval/paired.ts).
 *
 * node dist/bench/replay.js --traces work/twin-pairs/seed1,work/twin-pairs/seed2 [--arms op=0,fused=all]
 *   [--perturb 0,1e-4,-3e-4] [--out work/replay]
 * One child process per replay (the kernels read MASSIVE_FUSED_OPS); each writes <out>/<trace>-<arm>-p<p>.json,
 * and replays already there are kept, so a killed comparison continues where it stopped.
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { basename, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import * as tf from "@tensorflow/tfjs";
import { initBackend } from "../src/backend.js";
import { CaseStore } from "../src/data/case-store.js";
import { env } from "../src/env.js";
import { evaluateSplit } from "../src/eval/evaluate.js";
import { createModel } from "../src/model/create.js";
import { AdamW } from "../src/train/adamw.js";
import type { TrainConfig } from "../src/train/config.js";
import { trainStep, type StepCase } from "../src/train/step.js";
import { summarise, type ReplayResult } from "./replay-summary.js";

interface TraceStep {
  it: number;
  loss: number;
  organs: number[][];
  weights: number[][];
  lr: number;
}

/** A trace folder's config, data folder and steps, checked against its patch files. */
function readTrace(dir: string): { config: TrainConfig; data: string; steps: TraceStep[]; voxels: number } {
  const need = ["trace.json", "steps.jsonl", "images.bin", "labels.bin"];
  for (const f of need) if (!existsSync(join(dir, f))) throw new Error(`replay: ${join(dir, f)} is missing (a trace folder is what npm run twin writes)`);
  let trace: { config: TrainConfig; data: string };
  try {
    trace = JSON.parse(readFileSync(join(dir, "trace.json"), "utf8")) as { config: TrainConfig; data: string };
  } catch (e) {
    throw new Error(`replay: ${join(dir, "trace.json")} is not JSON (${(e as Error).message})`);
  }
  if (!Array.isArray(trace.config?.roi) || typeof trace.data !== "string")
    throw new Error(`replay: ${join(dir, "trace.json")} has no config.roi or data folder (not written by npm run twin?)`);
  const steps = readFileSync(join(dir, "steps.jsonl"), "utf8")
    .trim()
    .split("\n")
    .map((l, i) => {
      try {
        return JSON.parse(l) as TraceStep;
      } catch {
        throw new Error(`replay: ${join(dir, "steps.jsonl")} line ${i + 1} is not JSON`);
      }
    });
  const voxels = trace.config.roi.reduce((a, b) => a * b, 1);
  const cases = steps.reduce((n, s) => n + s.organs.length, 0);
  for (const [f, bytes] of [
    ["images.bin", 4],
    ["labels.bin", 1],
  ] as const) {
    const size = statSync(join(dir, f)).size;
    if (size !== cases * voxels * bytes)
      throw new Error(`replay: ${join(dir, f)} has ${size} bytes; ${cases} patches of ${voxels} voxels need ${cases * voxels * bytes}`);
  }
  return { ...trace, steps, voxels };
}

/** Train along the trace with the current MASSIVE_FUSED_OPS, one initial weight scaled by 1 + perturb. */
async function replayOne(dir: string, arm: string, perturb: number): Promise<ReplayResult> {
  const t0 = performance.now();
  const { config, data, steps, voxels } = readTrace(dir);
  await initBackend({ log: () => {} });
  const model = createModel(config.model);
  if (perturb !== 0) {
    const [name, w] = [...model.params.trainable][0];
    if (!name.endsWith("conv.w")) throw new Error(`replay: expected the first parameter to be a convolution filter, got ${name}`);
    const values = (await w.data()) as Float32Array;
    values[0] *= 1 + perturb;
    tf.tidy(() => w.assign(tf.tensor(values, w.shape)));
  }
  const opt = new AdamW(model.params.trainable, { beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: config.weightDecay });
  const images = readFileSync(join(dir, "images.bin"));
  const labels = readFileSync(join(dir, "labels.bin"));
  const [nx, ny, nz] = config.roi;
  let k = 0;
  const gaps: number[] = [];
  for (const s of steps) {
    const batch: StepCase[] = s.organs.map((organs, j) => {
      const i = k++;
      const image = new Float32Array(voxels);
      image.set(new Float32Array(images.buffer, images.byteOffset + i * voxels * 4, voxels));
      return { patch: { shape: [nx, ny, nz], image, label: labels.subarray(i * voxels, (i + 1) * voxels) }, organs, weights: s.weights[j] };
    });
    const r = await trainStep(model, opt, batch, s.lr, config.dice);
    gaps.push(r.loss - s.loss);
    if (s.it % 200 === 0) process.stderr.write(`replay ${basename(dir)} ${arm} p=${perturb}: step ${s.it}/${steps.length}\n`);
  }
  const store = new CaseStore(data, config.roi);
  const ev = await evaluateSplit(model, store, config.roi, { progress: false, blend: "logits", postprocess: false });
  const late = gaps.slice(Math.floor(gaps.length / 2));
  model.dispose();
  opt.dispose();
  return {
    trace: dir,
    arm,
    fused: env("MASSIVE_FUSED_OPS") ?? "",
    perturb,
    organAverage: ev.summary.organAverage,
    perClass: Object.fromEntries(Object.entries(ev.summary.perClass).map(([c, v]) => [c, v.mean])),
    lateLossGap: late.reduce((a, b) => a + b, 0) / late.length,
    earlyLossGap: Math.max(...gaps.slice(0, 20).map(Math.abs)),
    steps: steps.length,
    seconds: (performance.now() - t0) / 1000,
  };
}

const { values: a } = parseArgs({
  options: {
    traces: { type: "string" },
    arms: { type: "string", default: "op=0,fused=all" },
    perturb: { type: "string", default: "0,1e-4,-3e-4" },
    out: { type: "string", default: "work/replay" },
    one: { type: "string" },
  },
  strict: true,
});

async function main(): Promise<void> {
  if (a.one) {
    // Child: --one <trace>|<arm>|<perturb>|<result file>, MASSIVE_FUSED_OPS set by the parent.
    const [trace, arm, p, file] = a.one.split("|");
    writeFileSync(file, JSON.stringify(await replayOne(trace, arm, Number(p)), null, 1));
    return;
  }
  if (!a.traces) throw new Error("replay: --traces <twin run dir>[,<dir>...] is required (folders written by npm run twin)");
  const traces = a.traces.split(",").map((t) => resolve(t));
  const names = traces.map((t) => basename(t));
  if (new Set(names).size !== names.length) throw new Error(`replay: trace folders need distinct names, got ${names.join(", ")}`);
  traces.forEach((t) => readTrace(t));
  // A MASSIVE_FUSED_OPS value may itself be a comma list: a comma starts a new arm only before "name=".
  const arms = a.arms!.split(/,(?=[^,=]+=)/).map((s) => {
    const [name, fused] = s.split("=");
    if (!name || fused === undefined) throw new Error(`replay: --arms wants name=MASSIVE_FUSED_OPS pairs, got "${s}"`);
    return { name, fused };
  });
  const perturbs = a.perturb!.split(",").map(Number);
  if (perturbs.some((p) => !Number.isFinite(p) || Math.abs(p) >= 0.1)) throw new Error(`replay: --perturb wants small numbers, got "${a.perturb}"`);
  const out = resolve(a.out!);
  mkdirSync(out, { recursive: true });
  const results: ReplayResult[] = [];
  const self = fileURLToPath(import.meta.url);
  for (const [i, trace] of traces.entries())
    for (const arm of arms)
      for (const p of perturbs) {
        const file = join(out, `${names[i]}-${arm.name}-p${p}.json`);
        let r = existsSync(file) ? (JSON.parse(readFileSync(file, "utf8")) as ReplayResult) : undefined;
        if (r && (r.trace !== trace || r.fused !== arm.fused || r.perturb !== p))
          throw new Error(`replay: ${file} was made for another trace or setting (${r.trace}, MASSIVE_FUSED_OPS=${r.fused}, p=${r.perturb}); move it away`);
        if (!r) {
          const c = spawnSync(process.execPath, [self, "--one", [trace, arm.name, p, file].join("|")], {
            stdio: ["ignore", "inherit", "inherit"],
            env: { ...process.env, MASSIVE_FUSED_OPS: arm.fused },
          });
          if (c.status !== 0) throw new Error(`replay: the replay of ${trace} (${arm.name}, p=${p}) exited with ${c.status}`);
          r = JSON.parse(readFileSync(file, "utf8")) as ReplayResult;
        }
        console.log(
          `${names[i]} ${arm.name} p=${p}: organ average ${r.organAverage?.toFixed(3)}, late loss - trace ${r.lateLossGap.toFixed(4)}, ${r.earlyLossGap === null ? "" : `first 20 steps within ${r.earlyLossGap.toExponential(1)} of the trace, `}${r.seconds.toFixed(0)} s${r.source ? `; made by ${r.source}` : ""}`,
        );
        results.push(r);
      }
  for (const l of summarise(
    results,
    traces,
    arms.map((x) => x.name),
  ))
    console.log(l);
}

main().catch((e) => {
  console.error((e as Error).message);
  process.exit(1);
});
