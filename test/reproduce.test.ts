import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync, spawn, spawnSync } from "node:child_process";
import { copyFileSync, existsSync, mkdirSync, readFileSync, readdirSync, rmSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { SITES } from "../src/data/ontology.js";
import { ensureData } from "../src/experiments/data.js";
import { plannedRuns, type PlannedRun } from "../src/experiments/plan.js";
import type { RunResult } from "../src/experiments/runs.js";
import type { ReproduceProvenance } from "../src/experiments/provenance.js";
import { experimentSettings, type ExperimentSettings } from "../src/experiments/settings.js";
import { trainRun } from "../src/experiments/train-run.js";
import { hasCheckpoint } from "../src/train/checkpoint.js";
import { tempDir } from "./helpers.js";

const kit = resolve(".");
/** The environment of a reproduction that writes only into `work` (no MASSIVE_* from the caller). */
function envWith(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env = { ...process.env };
  for (const k of Object.keys(env)) if (k.startsWith("MASSIVE_")) delete env[k];
  return { ...env, ...extra };
}

function smokeIn(work: string): ExperimentSettings {
  const before = process.env.MASSIVE_WORK;
  process.env.MASSIVE_WORK = work;
  try {
    return experimentSettings("smoke");
  } finally {
    if (before === undefined) delete process.env.MASSIVE_WORK;
    else process.env.MASSIVE_WORK = before;
  }
}

test("a run killed after a checkpoint continues from it and gives the uninterrupted run's result", { timeout: 10 * 60 * 1000 }, async () => {
  const s = smokeIn(tempDir("massive-work-"));
  const data = ensureData(s);
  const run = plannedRuns(s, ["03-figure2-forgetting"])[0];
  assert.equal(run.method, "LM");
  const runDir = join(s.workDir, "runs", run.key);
  // Stopped after 15 steps: a checkpoint at 10, site ends recorded after it, no result yet.
  assert.equal(await trainRun(s, data, run, { stopAfter: 15 }), undefined);
  assert.ok(hasCheckpoint(runDir));
  assert.ok(!existsSync(join(s.resultsDir, `${run.key}.json`)));
  let resumedAt = -1;
  const resumed = (await trainRun(s, data, run, { onProgress: (p) => (resumedAt = resumedAt < 0 && p.resumed ? p.it : resumedAt) }))!;
  assert.equal(resumedAt, 10, "continued from the checkpoint at step 10");
  assert.ok(!existsSync(runDir), "the run folder goes once the result is written");
  const straight = (await trainRun(s, data, run, { runDir: join(s.workDir, "straight") }))!;
  assert.deepEqual(resumed.siteEnds, straight.siteEnds, "site ends (memory snapshots, forgetting Dice) as if never stopped");
  assert.deepEqual(resumed.final, straight.final);
  assert.equal(resumed.iterations, straight.iterations);
  assert.deepEqual(
    resumed.siteEnds.map((e) => e.site),
    [...new Set(resumed.siteEnds.map((e) => e.site))],
    "each site end once",
  );
  // Small: no per-step records, and memory items keep only what Figure 3 plots.
  const bytes = statSync(join(s.resultsDir, `${run.key}.json`)).size;
  assert.ok(bytes < 20_000, `result file of ${bytes} bytes`);
  assert.deepEqual(Object.keys(resumed.siteEnds.find((e) => e.memory.length)!.memory[0]).sort(), ["entropy", "idx", "site"]);
});

test("npm run reproduce, killed during a run and rerun, keeps finished runs and resumes the running one", { timeout: 15 * 60 * 1000 }, async () => {
  const work = tempDir("massive-work-");
  const s = smokeIn(work);
  const plan = plannedRuns(s, ["03-figure2-forgetting"]);
  assert.equal(plan.length, 3);
  const [first, second] = plan;
  const args = ["dist/scripts/reproduce.js", "--profile", "smoke", "--only", "03", "--train-only", "--jobs", "1"];
  const env = envWith({ MASSIVE_WORK: work });
  const resultOf = (r: PlannedRun) => join(s.resultsDir, `${r.key}.json`);
  // Kill the whole reproduction (SIGKILL: no clean-up) once the first run is done and the second has a checkpoint.
  const child = spawn(process.execPath, args, { env, stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  child.stdout.on("data", (b: Buffer) => (out += b.toString()));
  child.stderr.on("data", (b: Buffer) => (out += b.toString()));
  const exited = new Promise<void>((r) => child.on("exit", () => r()));
  for (;;) {
    if (existsSync(resultOf(first)) && hasCheckpoint(join(work, "smoke", "runs", second.key))) break;
    assert.ok(child.exitCode === null, `reproduce ended before it could be killed:\n${out}`);
    await new Promise((r) => setTimeout(r, 200));
  }
  child.kill("SIGKILL");
  await exited;
  assert.ok(!existsSync(resultOf(second)), "the second run had not finished");
  const firstTime = statSync(resultOf(first)).mtimeMs;
  const again = spawnSync(process.execPath, args, { env, encoding: "utf8" });
  assert.equal(again.status, 0, again.stdout + again.stderr);
  assert.match(again.stdout, /1 of 3 runs already in .*; training 2 with 1 parallel job/);
  assert.match(again.stdout, new RegExp(`run 2/3 ${second.key}: resumed at step [1-9]\\d* from its last checkpoint`));
  assert.doesNotMatch(again.stdout, new RegExp(`${first.key}: training`));
  assert.equal(statSync(resultOf(first)).mtimeMs, firstTime, "the finished run was not trained again");
  const log = readFileSync(join(work, "smoke", "progress.log"), "utf8");
  assert.match(log, new RegExp(`run 1/3 ${first.key}: cached`));
  for (const r of plan) assert.ok(existsSync(resultOf(r)), `${r.key}: no result`);
  const resumed = JSON.parse(readFileSync(resultOf(second), "utf8")) as RunResult;
  assert.deepEqual(
    resumed.siteEnds.map((e) => e.site),
    [...new Set(resumed.siteEnds.map((e) => e.site))],
    "each site end once",
  );
  assert.ok(
    resumed.siteEnds.some((e) => e.site === "D16" && "D8" in e.dice),
    "forgetting evaluations after the checkpoint",
  );
  assert.deepEqual(readdirSync(join(work, "smoke", "runs")), [], "no run folder left");
  // --fresh deletes what it says and trains again.
  const fresh = spawnSync(process.execPath, [...args.slice(0, -2), "--jobs", "2", "--fresh"], { env, encoding: "utf8" });
  assert.equal(fresh.status, 0, fresh.stdout + fresh.stderr);
  assert.match(fresh.stdout, /--fresh: deleted 3 results from .* and 0 run folders/);
  assert.match(fresh.stdout, /0 of 3 runs already in .*; training 3 with 2 parallel jobs, 1 thread each/);
});

/** A made-up result for a planned run: DM beats LM in every seed, and LM's Dice on D8 is 0 (0/0 drops). */
function fakeResult(r: PlannedRun): RunResult {
  const base: Record<string, number> = { lm: 0.3, dm: 0.4, sm: 0.45, repeated: 0.44 };
  const average = base[r.spec.strategy] + 0.01 * r.spec.seed + (r.spec.strategy === "sm" ? 0.002 * r.spec.topOneInK : 0);
  const siteEnds =
    r.spec.dataset === "stream" && r.spec.strategy !== "repeated"
      ? SITES.map((x, i) => ({
          site: x.id,
          it: 10 * (i + 1),
          memory: [
            { idx: i, site: x.id, entropy: 0.5 },
            ...(r.spec.strategy === "lm" ? [] : [{ idx: 0, site: "D1", entropy: r.spec.strategy === "sm" ? 0.9 : 0.6 }]),
          ],
          dice: Object.fromEntries(
            (r.spec.forgettingSites ?? [])
              .filter((k) => Number(k.slice(1)) <= i + 1)
              .map((k) => [k, r.spec.strategy === "lm" ? 0 : 0.5 - 0.001 * (i + 1) * r.spec.seed]),
          ),
        }))
      : [];
  return {
    key: r.key,
    spec: r.spec,
    config: r.config,
    final: { perClass: { 1: { mean: average, cases: 4 } }, organAverage: average, tumorAverage: null, average },
    siteEnds,
    iterations: 100,
    trainSeconds: 10,
    evalSeconds: 1,
    backend: "wasm",
    finishedAt: new Date(0).toISOString(),
  };
}

test("--report-only on a fresh clone: REPORT.md from the committed results alone, clear messages when some are missing", () => {
  const clone = tempDir("massive-clone-");
  for (const f of ["package.json"]) copyFileSync(join(kit, f), join(clone, f));
  for (const d of ["dist", "node_modules"]) symlinkSync(join(kit, d), join(clone, d));
  const plan = plannedRuns(experimentSettings("mini"));
  const results = join(clone, "results", "mini");
  mkdirSync(results, { recursive: true });
  for (const r of plan) writeFileSync(join(results, `${r.key}.json`), JSON.stringify(fakeResult(r)));
  mkdirSync(join(clone, "figures"));
  // The test's own provenance, as `npm run reproduce` writes it: the committed one may be absent (no rerun yet).
  const prov: ReproduceProvenance = {
    profile: "mini",
    seeds: experimentSettings("mini").seeds,
    commit: "0000000",
    codeDirty: false,
    date: new Date(0).toISOString(),
    command: "npm run reproduce -- --profile mini",
    jobs: 2,
    wallSecondsTraining: 3600,
    runs: plan.map((r, i) => ({ key: r.key, iterations: 100, trainSeconds: 10, evalSeconds: 1, trainedNow: true, commit: i < 10 ? "aaaaaaa" : "bbbbbbb" })),
    wallSecondsPerNotebook: { "02-table2-dynamic-adaptation": 61 },
  };
  writeFileSync(join(clone, "figures", "PROVENANCE.json"), JSON.stringify(prov));
  const env = envWith({});
  const reportOnly = () => spawnSync(process.execPath, ["dist/scripts/reproduce.js", "--report-only"], { cwd: clone, env, encoding: "utf8" });
  const ok = reportOnly();
  assert.equal(ok.status, 0, ok.stdout + ok.stderr);
  assert.ok(!existsSync(join(clone, "work")), "nothing generated or trained");
  const report = readFileSync(join(clone, "figures", "REPORT.md"), "utf8");
  assert.match(report, /\| claim \| the paper says \| verdict here \| paired differences \|/);
  assert.match(report, /\| 2a \| DM beats LM on the stream \| supported \| DM − LM: \+0\.1000, 95% interval \[\+0\.1000, \+0\.1000\], 5 seeds \|/);
  assert.match(report, /LM not defined/, "LM's 0/0 drops are not defined");
  assert.doesNotMatch(report, /LM 0\.000/, "never a drop of 0 for 0/0");
  assert.match(report, /\| 4 \| LM forgets most .*\| undecided \|/);
  assert.match(report, /## Run times/);
  assert.match(report, new RegExp(`- training: ${plan.length} runs, .* wall time with 2 parallel jobs`), "run times read from PROVENANCE.json");
  assert.match(report, /- notebook 02-table2-dynamic-adaptation: /);
  assert.match(
    report,
    new RegExp(`- trained by: bbbbbbb \\(${plan.length - 10} runs\\), aaaaaaa \\(10 runs\\); notebooks and this report by 0000000\n`),
    "which code trained the runs",
  );
  // Without PROVENANCE.json the report still comes, and says the run times are not recorded.
  rmSync(join(clone, "figures", "PROVENANCE.json"));
  const noProv = reportOnly();
  assert.equal(noProv.status, 0, noProv.stderr);
  assert.match(readFileSync(join(clone, "figures", "REPORT.md"), "utf8"), /Not recorded \(no PROVENANCE\.json\)/);
  // One run missing: named, with the command that trains it, no stack trace.
  rmSync(join(results, `${plan[7].key}.json`));
  const missing = reportOnly();
  assert.notEqual(missing.status, 0);
  assert.match(
    missing.stderr,
    new RegExp(`1 of the runs needed is not in results/mini: ${plan[7].key}\\..*\`npm run reproduce -- --profile mini\` trains the missing runs`),
  );
  assert.doesNotMatch(missing.stderr, /\n\s+at /, "a message, not a stack trace");
  rmSync(results, { recursive: true });
  const none = reportOnly();
  assert.notEqual(none.status, 0);
  assert.match(none.stderr, /holds none of the 50 runs it needs: run `npm run reproduce -- --profile mini` first/);
  assert.doesNotMatch(none.stderr, /\n\s+at /);
});

test("provenance names a clean commit when only the reproduction's own outputs changed", () => {
  const repo = tempDir("massive-git-");
  const write = (f: string, text: string) => {
    mkdirSync(join(repo, f, ".."), { recursive: true });
    writeFileSync(join(repo, f), text);
  };
  write("package.json", JSON.stringify({ name: "massive" }));
  for (const f of ["src/a.ts", "results/mini/r.json", "figures/REPORT.md", "notebooks/01.ipynb"]) write(f, "1");
  const git = (...a: string[]) => execFileSync("git", ["-c", "user.name=t", "-c", "user.email=t@t", ...a], { cwd: repo, encoding: "utf8" });
  git("init", "-q");
  git("add", ".");
  git("commit", "-q", "-m", "x");
  const state = () =>
    JSON.parse(
      execFileSync(
        process.execPath,
        [
          "--input-type=module",
          "-e",
          `import { gitState } from ${JSON.stringify(join(kit, "dist/src/experiments/git-state.js"))}; console.log(JSON.stringify(gitState()));`,
        ],
        {
          cwd: repo,
          env: envWith({ MASSIVE_HOME: repo }),
          encoding: "utf8",
        },
      ),
    ) as { commit: string; dirtyFiles: string[] };
  for (const f of ["results/mini/r.json", "figures/REPORT.md", "notebooks/01.ipynb"]) write(f, "2");
  write("results/mini/new.json", "3");
  assert.deepEqual(state().dirtyFiles, [], "outputs are not code changes");
  write("src/a.ts", "2");
  assert.deepEqual(state().dirtyFiles, ["src/a.ts"]);
  assert.match(state().commit, /^[0-9a-f]{7,}$/);
});
