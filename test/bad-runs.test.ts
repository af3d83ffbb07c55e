/**
 * Interrupted and careless training runs (issue 12, items 5-8 and 12): a resume continues exactly the
 * run it claims to, or is refused naming what differs; checkpoints are verified and swapped crash-safely;
 * metrics.jsonl of a killed and resumed run is the uninterrupted run's, byte for byte.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { readManifest, writeManifest } from "../src/data/manifest.js";
import { hasCheckpoint, loadCheckpoint, saveCheckpoint, type SwapPoint } from "../src/train/checkpoint.js";
import { defaultConfig, type TrainConfig } from "../src/train/config.js";
import { metricsEvents, RunDir } from "../src/train/run-dir.js";
import { train, type RunState } from "../src/train/trainer.js";
import { smokePrepared } from "./fixtures.js";
import { tempDir } from "./helpers.js";

const quiet = () => {};
const SITES = ["D1", "D2", "D3"];

function massive(...args: string[]) {
  return spawnSync(process.execPath, ["bin/massive.js", ...args], { encoding: "utf8", env: { ...process.env, CI: "1" } });
}

// ---- 8. crash-safe checkpoint swap ----

const arrays = (v: number) => [
  { name: "w", shape: [2, 3], values: new Float32Array(6).fill(v) },
  { name: "b", shape: [3], values: new Float32Array([v, -v, 2 * v]) },
];

class SimulatedKill extends Error {}

const POINTS: SwapPoint[] = ["tmp-written", "old-removed", "current-moved-to-old", "new-in-place", "old-deleted"];

test("item 8: a kill at each point of the checkpoint swap leaves a complete checkpoint (old or new)", () => {
  for (const start of ["current", "only-old"] as const) {
    for (const point of POINTS) {
      const run = tempDir();
      saveCheckpoint(run, { it: 1 }, arrays(1));
      if (start === "only-old") {
        // An earlier save was killed between its renames: only checkpoint.old is complete.
        assert.throws(
          () =>
            saveCheckpoint(run, { it: 2 }, arrays(2), {
              at: (p) => {
                if (p === "current-moved-to-old") throw new SimulatedKill();
              },
            }),
          SimulatedKill,
        );
        assert.equal(existsSync(join(run, "checkpoint")), false);
        assert.equal(loadCheckpoint<{ it: number }>(run).state.it, 1);
      }
      let reached = false;
      try {
        saveCheckpoint(run, { it: 3 }, arrays(3), {
          at: (p) => {
            if (p === point) {
              reached = true;
              throw new SimulatedKill();
            }
          },
        });
      } catch (e) {
        assert.ok(e instanceof SimulatedKill, String(e));
      }
      const label = `${start}, killed at ${point}`;
      assert.ok(reached || start === "only-old", `${label}: point reached`);
      assert.ok(hasCheckpoint(run), `${label}: a checkpoint survives`);
      const ck = loadCheckpoint<{ it: number }>(run);
      assert.ok(ck.state.it === 1 || ck.state.it === 3, `${label}: it ${ck.state.it}`);
      assert.equal(ck.arrays[0].values[0], ck.state.it, `${label}: weights belong to the state`);
      if (["new-in-place", "old-deleted"].includes(point)) assert.equal(ck.state.it, 3, label);
      // The next save after the kill completes and cleans up.
      saveCheckpoint(run, { it: 4 }, arrays(4));
      assert.equal(loadCheckpoint<{ it: number }>(run).state.it, 4, label);
      assert.deepEqual(readdirSync(run).sort(), ["checkpoint"], `${label}: no checkpoint.old or checkpoint.tmp-* left`);
    }
  }
});

test("item 8: checkpoint.tmp-<pid> folders of killed runs are removed by the next save", () => {
  const run = tempDir();
  mkdirSync(join(run, "checkpoint.tmp-999999"));
  writeFileSync(join(run, "checkpoint.tmp-999999", "tensors.bin"), "half");
  saveCheckpoint(run, { it: 1 }, arrays(1));
  assert.deepEqual(readdirSync(run), ["checkpoint"]);
});

// ---- 7. verified checkpoints ----

test("item 7: a zeroed or overwritten tensors.bin is refused by its checksums", () => {
  const run = tempDir();
  saveCheckpoint(run, { it: 1 }, arrays(1.5));
  const bin = join(run, "checkpoint", "tensors.bin");
  const size = readFileSync(bin).length;
  writeFileSync(bin, Buffer.alloc(size));
  assert.throws(() => loadCheckpoint(run), /tensors\.bin: checksum mismatch in 2 of 2 tensor\(s\) \(w, b\); the checkpoint is damaged/);
  const junk = Buffer.alloc(size);
  for (let i = 0; i < size; i++) junk[i] = (i * 97 + 13) & 255;
  writeFileSync(bin, junk);
  assert.throws(() => loadCheckpoint(run), /checksum mismatch/);
  writeFileSync(join(run, "checkpoint", "state.json"), Buffer.alloc(300));
  assert.throws(() => loadCheckpoint(run), /state\.json: checkpoint state is not valid JSON/);
});

// ---- 5, 6, 12: resume checks and metrics, on the smoke stream ----

function smokeConfig(over: Partial<TrainConfig> = {}) {
  return defaultConfig("smoke", "sm", { memorySize: 3, samplingRate: 2, checkpointEvery: 4, seed: 3, ...over });
}

async function runTo(runDir: string, config: TrainConfig, data: string, extra: { stopAfter?: number; resume?: boolean; sites?: string[] } = {}) {
  const logs: string[] = [];
  const log = (l: string) => logs.push(l);
  const r = await train({ config, data, runDir, sites: extra.sites ?? SITES, progress: false, log, events: metricsEvents(new RunDir(runDir), log), ...extra });
  r.dispose();
  return logs;
}

test("item 6: killed + resumed metrics.jsonl == uninterrupted metrics.jsonl, byte for byte", async () => {
  const data = smokePrepared();
  for (const strategy of ["sm", "repeated"] as const) {
    const config = smokeConfig({ strategy, epochs: 2 });
    const ref = tempDir();
    await runTo(ref, config, data);
    const want = readFileSync(join(ref, "metrics.jsonl"), "utf8");
    assert.ok(
      want
        .split("\n")
        .filter(Boolean)
        .every((l) => typeof JSON.parse(l).it === "number"),
      "every record carries its iteration",
    );
    if (strategy === "sm") assert.ok(want.includes('"arrival"'));
    // Killed after its second checkpoint (iteration 8), and killed before its first one.
    for (const stopAfter of [11, 2]) {
      const out = tempDir();
      await runTo(out, config, data, { stopAfter });
      const logs = await runTo(out, config, data, { resume: true });
      if (stopAfter === 2)
        assert.ok(
          logs.some((l) => /no checkpoint in .*: starting a fresh run/.test(l)),
          logs.join("\n"),
        );
      assert.equal(readFileSync(join(out, "metrics.jsonl"), "utf8"), want, `${strategy}, killed after ${stopAfter} steps`);
      assert.ok(existsSync(join(out, "timing.jsonl")));
    }
  }
});

test("item 5: resume refuses other flags, other sites and changed data, naming what differs", async () => {
  const data = smokePrepared();
  const config = smokeConfig();
  const run = tempDir();
  await runTo(run, config, data, { stopAfter: 5 });
  await assert.rejects(runTo(run, smokeConfig({ memorySize: 4 }), data, { resume: true }), /cannot resume.*\n.*memorySize \(--memory\): checkpoint 3, now 4/);
  await assert.rejects(runTo(run, smokeConfig({ seed: 4 }), data, { resume: true }), (e: Error) => {
    assert.match(e.message, /seed \(--seed\): checkpoint 3, now 4/);
    assert.doesNotMatch(e.message, /model\.seed/);
    return true;
  });
  await assert.rejects(runTo(run, config, data, { resume: true, sites: ["D1", "D2"] }), /--sites: checkpoint D1,D2,D3, now D1,D2/);
  // Cases added to the prepared folder after the checkpoint.
  const grown = tempDir();
  cpSync(data, grown, { recursive: true });
  const m = readManifest(grown);
  const extra = m.cases.find((c) => c.split === "train" && c.site === "D2")!;
  m.cases.push({ ...extra, id: `${extra.id}-copy` });
  writeManifest(grown, m);
  await assert.rejects(
    runTo(run, config, grown, { resume: true }),
    new RegExp(`training stream has \\d+ case\\(s\\), the checkpoint's had \\d+ \\(--data: checkpoint .*, now .*\\); added: ${extra.id}-copy`),
  );
  // A smaller prepared folder (it used to fail with "Cannot read properties of undefined").
  const smaller = tempDir();
  cpSync(data, smaller, { recursive: true });
  const m3 = readManifest(smaller);
  const gone = m3.cases.filter((c) => c.split === "train" && c.site === "D3");
  m3.cases = m3.cases.filter((c) => !gone.includes(c));
  writeManifest(smaller, m3);
  await assert.rejects(runTo(run, config, smaller, { resume: true }), new RegExp(`gone: ${gone[0].id}`));
  // Another prepared folder with the same case ids but other content.
  const other = tempDir();
  cpSync(data, other, { recursive: true });
  const m2 = readManifest(other);
  m2.cases.filter((c) => c.split === "train").forEach((c) => (c.classesPresent = [...c.classesPresent, 99]));
  writeManifest(other, m2);
  await assert.rejects(runTo(run, config, other, { resume: true }), /the manifest entries of \d+ case\(s\) changed/);
  // Unchanged: the resume goes through.
  const logs = await runTo(run, config, data, { resume: true });
  assert.ok(
    logs.some((l) => /resumed from .* at iteration 4/.test(l)),
    logs.join("\n"),
  );
});

test("item 12: training skips cases with no labelled voxel, with a note; missing files stop it before it starts", async () => {
  const data = tempDir();
  cpSync(smokePrepared(), data, { recursive: true });
  const m = readManifest(data);
  const empty = m.cases.find((c) => c.split === "train" && c.site === "D1")!;
  empty.classesPresent = [];
  writeManifest(data, m);
  const seen = new Set<number>();
  const logs: string[] = [];
  const r = await train({
    config: smokeConfig({ strategy: "lm" }),
    data,
    sites: SITES,
    progress: false,
    log: (l) => logs.push(l),
    events: { onStep: (e) => e.cases.forEach((c) => seen.add(c)) },
  });
  assert.ok(
    logs.some((l) => l.includes(`skipping 1 case(s) with no labelled voxel`) && l.includes(empty.id)),
    logs.join("\n"),
  );
  assert.ok(!r.stream.some((c) => c.id === empty.id));
  r.dispose();
  const victim = m.cases.find((c) => c.split === "train" && c.site === "D3")!;
  rmSync(join(data, victim.label));
  await assert.rejects(
    train({ config: smokeConfig({ strategy: "lm" }), data, sites: SITES, progress: false, log: quiet }),
    new RegExp(`1 prepared file\\(s\\) unusable.*\\n.*${victim.label} is missing`),
  );
});

test("messages: no test split is refused before training; eval --run <typo> creates nothing", () => {
  const data = tempDir();
  cpSync(smokePrepared(), data, { recursive: true });
  const m = readManifest(data);
  m.cases = m.cases.filter((c) => c.split === "train");
  writeManifest(data, m);
  const out = tempDir();
  const r = massive("train", "--strategy", "lm", "--data", data, "--out", out, "--sites", "D1");
  assert.equal(r.status, 1);
  assert.match(r.stderr, /no test cases for sites D1 for the final evaluation; prepare a test list, or pass --no-eval/);
  assert.ok(!existsSync(join(out, "metrics.jsonl")), "nothing trained");
  const typo = join(tempDir(), "no-such-run");
  const e = massive("eval", "--run", typo, "--data", data);
  assert.equal(e.status, 1);
  assert.match(e.stderr, /no-such-run: not a run folder \(no such folder\)/);
  assert.equal(existsSync(typo), false);
});

test("item 5: massive train --resume with no checkpoint says it starts fresh", () => {
  const out = tempDir();
  const r = massive(
    "train",
    "--strategy",
    "lm",
    "--data",
    smokePrepared(),
    "--out",
    out,
    "--sites",
    "D1",
    "--resume",
    "--no-eval",
    "--memory",
    "2",
    "--sampling-rate",
    "1",
  );
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stderr, /no checkpoint in .*: starting a fresh run/);
  const ck = loadCheckpoint<RunState>(out);
  assert.deepEqual(ck.state.data?.sites, ["D1"]);
  assert.ok(ck.state.data!.caseIds.length > 0);
});
