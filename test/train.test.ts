import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import * as tf from "@tensorflow/tfjs";
import { loadCheckpoint } from "../src/train/checkpoint.js";
import { defaultConfig } from "../src/train/config.js";
import { train, type RunState } from "../src/train/trainer.js";
import { smokePrepared } from "./fixtures.js";
import { tempDir } from "./helpers.js";

const quiet = () => {};
const SITES = ["D1", "D2", "D3", "D4", "D5"];

async function weightsOf(result: { model: { params: { exportArrays(): Promise<{ name: string; values: Float32Array }[]> } } }) {
  return new Map((await result.model.params.exportArrays()).map((a) => [a.name, a.values]));
}

test("killed and resumed from the last checkpoint = uninterrupted (memory exactly, weights within 1e-5)", async () => {
  const data = smokePrepared();
  const config = defaultConfig("smoke", "sm", { memorySize: 4, samplingRate: 2, checkpointEvery: 4, seed: 3 });
  const full = await train({ config, data, runDir: tempDir(), sites: SITES, progress: false, log: quiet });
  const runDir = tempDir();
  const first = await train({ config, data, runDir, sites: SITES, stopAfter: 11, progress: false, log: quiet });
  assert.equal(first.stopped, true);
  assert.equal(loadCheckpoint<RunState>(runDir).state.it, 8); // the last checkpoint before the "kill"
  first.dispose();
  const resumed = await train({ config, data, runDir, sites: SITES, resume: true, progress: false, log: quiet });
  assert.equal(resumed.stopped, false);
  assert.equal(resumed.state.it, full.state.it);
  assert.deepEqual(resumed.memory!.toJSON(), full.memory!.toJSON());
  const a = await weightsOf(full),
    b = await weightsOf(resumed);
  let worst = 0;
  for (const [name, v] of a) {
    const w = b.get(name)!;
    for (let i = 0; i < v.length; i++) worst = Math.max(worst, Math.abs(v[i] - w[i]));
  }
  assert.ok(worst <= 1e-5, `max weight difference ${worst}`);
  full.dispose();
  resumed.dispose();
});

test("the tensor count does not grow across training steps", async () => {
  const data = smokePrepared();
  const counts: number[] = [];
  const r = await train({
    config: defaultConfig("smoke", "dm", { memorySize: 4, samplingRate: 2, seed: 5 }),
    data,
    sites: SITES,
    progress: false,
    log: quiet,
    events: { onStep: () => void counts.push(tf.memory().numTensors) },
  });
  assert.ok(counts.length >= 10);
  assert.equal(counts[counts.length - 1], counts[2], `tensors per step: ${counts.join(",")}`);
  r.dispose();
});

test("same seed, same stream, same memory decisions; another seed differs", async () => {
  const data = smokePrepared();
  const run = async (seed: number) => {
    const r = await train({ config: defaultConfig("smoke", "sm", { memorySize: 4, samplingRate: 2, seed }), data, sites: SITES, progress: false, log: quiet });
    const m = r.memory!.toJSON();
    r.dispose();
    return m;
  };
  const a = await run(9),
    b = await run(9),
    c = await run(10);
  assert.deepEqual(a, b);
  assert.notDeepEqual(a, c);
});

test("site ends are reported once per site in stream order, with memory snapshots", async () => {
  const data = smokePrepared();
  const ends: string[] = [];
  const r = await train({
    config: defaultConfig("smoke", "lm", { memorySize: 3, samplingRate: 1, seed: 2 }),
    data,
    sites: SITES,
    progress: false,
    log: quiet,
    events: {
      onSiteEnd: (e) => {
        ends.push(e.site);
        assert.ok(e.memory.length <= 3 && e.memory.every((m) => typeof m.site === "string"));
      },
    },
  });
  assert.deepEqual(ends, SITES);
  r.dispose();
});

function massive(args: string[]) {
  return spawnSync(process.execPath, ["bin/massive.js", ...args], { encoding: "utf8", env: { ...process.env, CI: "1" } });
}

test("massive train lm, dm, sm and repeated write a run folder and a final evaluation with Dice in [0, 1]", () => {
  const data = smokePrepared();
  for (const strategy of ["lm", "dm", "sm", "repeated"]) {
    const out = tempDir();
    const r = massive([
      "train",
      "--strategy",
      strategy,
      "--profile",
      "smoke",
      "--data",
      data,
      "--out",
      out,
      "--sites",
      "D1,D4,D5",
      "--memory",
      "3",
      "--sampling-rate",
      "2",
      "--epochs",
      "2",
    ]);
    assert.equal(r.status, 0, `${strategy}: ${r.stderr}`);
    for (const f of ["config.json", "metrics.jsonl", "final-eval.json", join("checkpoint", "state.json")])
      assert.ok(existsSync(join(out, f)), `${strategy}: ${f}`);
    const ev = JSON.parse(readFileSync(join(out, "final-eval.json"), "utf8")) as { summary: { perClass: Record<string, { mean: number }>; average: number } };
    const dice = Object.values(ev.summary.perClass).map((v) => v.mean);
    assert.ok(dice.length > 0, `${strategy}: classes evaluated`);
    for (const d of [...dice, ev.summary.average]) assert.ok(d >= 0 && d <= 1, `${strategy}: Dice ${d}`);
    const steps = readFileSync(join(out, "metrics.jsonl"), "utf8")
      .split("\n")
      .filter((l) => l.includes('"step"'));
    assert.ok(steps.length > 0);
    assert.match(r.stdout, /Average \(all present\)/);
  }
});

test("massive train refuses bad flags and bad data with a clear message", () => {
  const data = smokePrepared();
  let r = massive(["train", "--strategy", "xx", "--data", data, "--out", tempDir()]);
  assert.equal(r.status, 2);
  assert.match(r.stderr, /--strategy must be one of lm, dm, sm, repeated/);
  r = massive(["train", "--strategy", "lm", "--data", data, "--out", tempDir(), "--memory", "0"]);
  assert.equal(r.status, 2);
  assert.match(r.stderr, /memory size must be a positive integer/);
  r = massive(["train", "--strategy", "lm", "--data", tempDir(), "--out", tempDir()]);
  assert.equal(r.status, 1);
  assert.match(r.stderr, /no manifest/);
});

test("a process killed with SIGKILL resumes from its checkpoint to the same end state", async () => {
  const data = smokePrepared();
  const args = (out: string) => [
    "bin/massive.js",
    "train",
    "--strategy",
    "dm",
    "--profile",
    "smoke",
    "--data",
    data,
    "--out",
    out,
    "--sites",
    "D1,D2,D3",
    "--memory",
    "3",
    "--sampling-rate",
    "3",
    "--checkpoint-every",
    "2",
    "--no-eval",
  ];
  const ref = tempDir();
  assert.equal(spawnSync(process.execPath, args(ref), { encoding: "utf8" }).status, 0);
  const out = tempDir();
  const child = spawn(process.execPath, args(out), { stdio: "ignore" });
  // Kill it once a checkpoint past iteration 4 exists.
  await new Promise<void>((resolve, reject) => {
    const timer = setInterval(() => {
      try {
        const f = join(out, "checkpoint", "state.json");
        if (existsSync(f) && (JSON.parse(readFileSync(f, "utf8")) as { state: RunState }).state.it >= 4) {
          clearInterval(timer);
          child.kill("SIGKILL");
          resolve();
        }
      } catch {
        /* being written: try again */
      }
    }, 20);
    child.on("exit", () => {
      clearInterval(timer);
      resolve();
    });
    setTimeout(() => reject(new Error("no checkpoint appeared")), 120_000);
  });
  await new Promise((r) => child.on("exit", r).listenerCount("exit") && setTimeout(r, 200));
  const killedAt = loadCheckpoint<RunState>(out).state;
  assert.equal(killedAt.done, false, "the run was killed before finishing");
  const r = spawnSync(process.execPath, [...args(out), "--resume"], { encoding: "utf8" });
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stderr, /resumed from .* at iteration/);
  const a = loadCheckpoint<RunState>(ref),
    b = loadCheckpoint<RunState>(out);
  assert.equal(b.state.done, true);
  assert.deepEqual(b.state.kind === "online" && b.state.memory, a.state.kind === "online" && a.state.memory);
  const wa = new Map(a.arrays.map((x) => [x.name, x.values]));
  let worst = 0;
  for (const x of b.arrays) {
    const v = wa.get(x.name)!;
    for (let i = 0; i < v.length; i++) worst = Math.max(worst, Math.abs(v[i] - x.values[i]));
  }
  assert.ok(worst <= 1e-5, `max difference ${worst}`);
});
