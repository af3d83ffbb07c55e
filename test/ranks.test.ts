/**
 * The paper's 4-GPU protocol emulated in one process (`ranks`): R memories of floor(N / R) items, each fed
 * an interleaved 1/R of the stream, one optimiser step per iteration on the mean gradient of the ranks'
 * cases, the budget counted per rank, and checkpoints that hold every rank.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as tf from "@tensorflow/tfjs";
import { initBackend } from "../src/backend.js";
import { UniversalUNet } from "../src/model/universal-unet.js";
import { loadCheckpoint } from "../src/train/checkpoint.js";
import { defaultConfig, memoryPerRank } from "../src/train/config.js";
import { onlineBudget, rankStreamIndex, rankStreamLength, usableStreamLength } from "../src/train/schedule.js";
import { stepGradients, type StepCase } from "../src/train/step.js";
import { loadTextEmbedding } from "../src/model/create.js";
import { train, type RunState } from "../src/train/trainer.js";
import { Rng } from "../src/util/rng.js";
import { smokePrepared } from "./fixtures.js";
import { tempDir } from "./helpers.js";

const quiet = () => {};
const SITES = ["D1", "D2", "D3", "D4", "D5"];

test("the stream is dealt out as the reference's DistributedSampler: batch j to rank j mod R, the tail dropped", () => {
  // 10 cases, 4 ranks, B = 1: each rank gets floor(10 / 4) = 2 cases, rank r the cases r and r + 4.
  assert.equal(rankStreamLength(10, 1, 4), 2);
  assert.deepEqual(
    [0, 1, 2, 3].map((r) => [0, 1].map((k) => rankStreamIndex(k, r, 1, 4))),
    [
      [0, 4],
      [1, 5],
      [2, 6],
      [3, 7],
    ],
  );
  assert.equal(usableStreamLength(10, 1, 4), 8);
  // The budget is per rank, floor(len / (B R)) * S; one rank is the old floor(len / B) * S.
  assert.equal(onlineBudget(10, 1, 3, 4), 6);
  assert.equal(onlineBudget(10, 1, 3), onlineBudget(10, 1, 3, 1));
  assert.equal(onlineBudget(10, 1, 3), 30);
  // B = 2, R = 2: batches [0,1] [2,3] [4,5] [6,7] [8,9]; rank 0 gets batches 0 and 2, rank 1 batches 1 and 3.
  assert.deepEqual(
    [0, 1, 2, 3].map((k) => rankStreamIndex(k, 0, 2, 2)),
    [0, 1, 4, 5],
  );
  assert.deepEqual(
    [0, 1, 2, 3].map((k) => rankStreamIndex(k, 1, 2, 2)),
    [2, 3, 6, 7],
  );
  assert.equal(rankStreamLength(10, 2, 2), 4);
});

test("ranks in the config: paper 4, smoke and mini 1 (left out), floor(N / R) per rank, clear refusals", () => {
  assert.equal(defaultConfig("paper", "sm").ranks, 4);
  assert.equal(memoryPerRank(defaultConfig("paper", "sm")), 32);
  // One rank is the config of a kit without ranks: the same object, so run keys and resumes do not change.
  assert.equal("ranks" in defaultConfig("smoke", "sm"), false);
  assert.equal("ranks" in defaultConfig("mini", "dm"), false);
  assert.equal("ranks" in defaultConfig("paper", "lm", { ranks: 1 }), false);
  assert.equal("ranks" in defaultConfig("paper", "repeated"), false);
  assert.equal(memoryPerRank({ memorySize: 10, ranks: 4 }), 2);
  assert.equal(memoryPerRank({ memorySize: 10 }), 10);
  assert.throws(() => defaultConfig("smoke", "sm", { memorySize: 3, ranks: 4 }), /memory size 3 is less than one item per rank/);
  assert.throws(() => defaultConfig("smoke", "sm", { ranks: 0 }), /ranks must be a positive integer/);
  assert.throws(() => defaultConfig("smoke", "repeated", { ranks: 2 }), /ranks apply to the online strategies/);
});

test("massive train --ranks: bad values are usage errors", () => {
  const run = (args: string[]) =>
    spawnSync(process.execPath, ["bin/massive.js", "train", "--data", tempDir(), "--out", tempDir(), ...args], {
      encoding: "utf8",
      env: { ...process.env, CI: "1" },
    });
  let r = run(["--strategy", "sm", "--memory", "2", "--ranks", "3"]);
  assert.equal(r.status, 2, r.stderr);
  assert.match(r.stderr, /less than one item per rank/);
  r = run(["--strategy", "lm", "--ranks", "1.5"]);
  assert.equal(r.status, 2, r.stderr);
  assert.match(r.stderr, /--ranks must be a whole number/);
  const help = spawnSync(process.execPath, ["bin/massive.js", "train", "--help"], { encoding: "utf8" });
  assert.match(help.stdout + help.stderr, /--ranks <value>\s+online strategies: emulate R data-parallel GPUs/);
});

/** A case on the smoke patch with a random image and random labels of the given organs. */
function randomCase(seed: number, organs: number[]): StepCase {
  const rng = new Rng(seed);
  const shape: [number, number, number] = [16, 16, 8];
  const n = shape[0] * shape[1] * shape[2];
  const image = Float32Array.from({ length: n }, () => rng.next());
  const label = Uint8Array.from({ length: n }, () => (rng.bernoulli(0.4) ? organs[rng.int(organs.length)] : 0));
  return { patch: { shape, image, label }, organs, weights: organs.map((_, i) => 1 + i / 2) };
}

test("one step of 2 ranks is the mean of the ranks' own gradients, each rank with its own BatchNorm statistics", async () => {
  await initBackend({ log: quiet });
  const model = new UniversalUNet({ widths: [4, 8, 16, 32, 64], featureDim: 256, headChannels: 8, seed: 4 }, loadTextEmbedding());
  const a = randomCase(1, [1, 2, 3]),
    b = randomCase(2, [2, 6]);
  const before = tf.memory().numTensors;
  const ga = await stepGradients(model, [a]),
    gb = await stepGradients(model, [b]);
  const two = await stepGradients(model, [a, b], "rows", 2);
  const pooled = await stepGradients(model, [a, b], "rows", 1);
  assert.equal(tf.memory().numTensors, before, "stepGradients leaves no tensors");
  assert.ok(Math.abs(two.loss - (ga.loss + gb.loss) / 2) < 1e-5, `loss ${two.loss} vs ${(ga.loss + gb.loss) / 2}`);
  let worst = 0,
    scale = 0,
    pooledGap = 0;
  for (const [name, g] of two.grads) {
    const x = ga.grads.get(name),
      y = gb.grads.get(name);
    for (let i = 0; i < g.length; i++) {
      const mean = ((x?.[i] ?? 0) + (y?.[i] ?? 0)) / 2;
      worst = Math.max(worst, Math.abs(g[i] - mean));
      scale = Math.max(scale, Math.abs(mean));
      pooledGap = Math.max(pooledGap, Math.abs(pooled.grads.get(name)![i] - g[i]));
    }
  }
  assert.ok(scale > 0);
  assert.ok(worst <= 1e-4 * scale, `max difference from the mean gradient ${worst} (largest gradient ${scale})`);
  // One forward pass over both cases (one BatchNorm over the pair) is another step: DDP does not do that.
  assert.ok(pooledGap > 1e-2 * scale, `pooled BatchNorm differs by ${pooledGap} only`);
  await assert.rejects(stepGradients(model, [a, b, a], "rows", 2), /3 cases do not split into 2 equal rank batches/);
  model.dispose();
});

test("ranks 2: two memories of N/2 over interleaved halves, one step of both ranks' cases per iteration, budget per rank, no tensor growth", async () => {
  const data = smokePrepared();
  const config = defaultConfig("smoke", "sm", { memorySize: 4, samplingRate: 2, seed: 3, ranks: 2 });
  const steps: { cases: number[]; numTensors: number }[] = [];
  const arrivals: { pos: number; rank?: number }[] = [];
  const ends: string[] = [];
  const r = await train({
    config,
    data,
    sites: SITES,
    progress: false,
    log: quiet,
    events: {
      onStep: (e) => void steps.push({ cases: e.cases, numTensors: tf.memory().numTensors }),
      onArrival: (e) => void arrivals.push({ pos: e.pos, rank: e.rank }),
      onSiteEnd: (e) => {
        ends.push(e.site);
        for (const m of e.memory) assert.equal(m.idx % 2, m.rank, `site end ${e.site}: item ${m.idx} in rank ${m.rank}'s memory`);
      },
    },
  });
  const len = r.stream.length;
  assert.equal(r.state.budget, Math.floor(len / 2) * 2, "budget floor(len / (B R)) * S");
  assert.equal(r.state.it, r.state.budget);
  assert.equal(r.state.optStep, r.state.budget, "one optimiser step per iteration");
  assert.equal(steps.length, r.state.budget);
  for (const s of steps) {
    assert.equal(s.cases.length, 2);
    assert.deepEqual(
      s.cases.map((i) => i % 2),
      [0, 1],
      `step cases ${s.cases}: rank 0's first, each from its own half`,
    );
  }
  // Every usable case arrives once, at the rank of its parity.
  assert.deepEqual(
    arrivals.map((a) => a.pos - 1).sort((x, y) => x - y),
    Array.from({ length: usableStreamLength(len, 1, 2) }, (_, i) => i),
  );
  for (const a of arrivals) assert.equal((a.pos - 1) % 2, a.rank);
  assert.deepEqual(ends, SITES);
  const mems = r.memories!;
  assert.equal(mems.length, 2);
  mems.forEach((m, rank) => {
    assert.equal(m.state.capacity, 2);
    assert.ok(m.size <= 2 && m.size > 0);
    for (const it of m.items) assert.equal(it.idx % 2, rank);
  });
  assert.deepEqual(r.memory!.toJSON(), mems[0].toJSON());
  assert.equal(steps[steps.length - 1].numTensors, steps[2].numTensors, `tensors per step: ${steps.map((s) => s.numTensors).join(",")}`);
  r.dispose();
});

test("ranks 2: killed and resumed from the last checkpoint = uninterrupted (losses, every memory and generator, weights)", async () => {
  const data = smokePrepared();
  const config = defaultConfig("smoke", "dm", { memorySize: 4, samplingRate: 2, checkpointEvery: 4, seed: 6, ranks: 2 });
  const losses = (into: Map<number, number>) => ({ onStep: (e: { it: number; loss: number }) => void into.set(e.it, e.loss) });
  const fullLoss = new Map<number, number>();
  const full = await train({ config, data, runDir: tempDir(), sites: SITES, progress: false, log: quiet, events: losses(fullLoss) });
  const runDir = tempDir();
  const cutLoss = new Map<number, number>();
  const first = await train({ config, data, runDir, sites: SITES, stopAfter: 7, progress: false, log: quiet, events: losses(cutLoss) });
  assert.equal(first.stopped, true);
  first.dispose();
  const saved = loadCheckpoint<RunState>(runDir).state;
  assert.equal(saved.it, 4);
  assert.ok(saved.kind === "online" && saved.moreRanks?.length === 1, "the checkpoint holds rank 1's state");
  assert.ok(saved.kind === "online" && saved.moreRanks![0].memory.items.every((m) => m.idx % 2 === 1));
  const resumed = await train({ config, data, runDir, sites: SITES, resume: true, progress: false, log: quiet, events: losses(cutLoss) });
  assert.equal(resumed.stopped, false);
  assert.deepEqual(
    [...cutLoss.entries()].sort((x, y) => x[0] - y[0]),
    [...fullLoss.entries()].sort((x, y) => x[0] - y[0]),
  );
  const strip = (s: RunState) => {
    const { data: _d, config: _c, ...rest } = s;
    return rest;
  };
  assert.deepEqual(strip(resumed.state), strip(full.state));
  const a = await full.model.params.exportArrays(),
    b = new Map((await resumed.model.params.exportArrays()).map((x) => [x.name, x.values]));
  for (const x of a) assert.deepEqual(b.get(x.name), x.values, `weights ${x.name}`);
  full.dispose();
  resumed.dispose();
});
