/**
 * `npm run reproduce [-- --profile smoke|mini] [--only 01,03] [--jobs N] [--fresh] [--train-only] [--report-only]`:
 *
 * 1. plan every run the selected notebooks need (src/experiments/plan.ts, the notebooks' own list);
 * 2. train those without a result, up to N at a time in child processes (default: one per core), each
 *    resuming from its last checkpoint, with a line per job saying which run and step it is on
 *    (also in work/<profile>/progress.log); killed and rerun, it continues where it stopped;
 * 3. execute the notebooks headless on the tslab kernel through the kit's own Jupyter client (they only
 *    read the results), and write figures/, PROVENANCE.json and REPORT.md.
 *
 * `--fresh` first deletes the profile's results and run folders (those of the selected notebooks with
 * --only). `--report-only` rewrites REPORT.md from the stored results and PROVENANCE.json: nothing is
 * trained or executed, and it works on a fresh clone (the mini results are committed).
 */
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { availableParallelism } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { ensureData } from "../src/experiments/data.js";
import { gitState } from "../src/experiments/git-state.js";
import { displayPath, notebookFiguresDir } from "../src/experiments/outputs.js";
import { EXPERIMENT_NOTEBOOKS, plannedRuns, type PlannedRun } from "../src/experiments/plan.js";
import { provenanceFile, readProvenance, type ReproduceProvenance } from "../src/experiments/provenance.js";
import { buildReport } from "../src/experiments/report-md.js";
import { MissingRunsError, missingRunsMessage, trainCommand } from "../src/experiments/results.js";
import { readResult, resultFile } from "../src/experiments/runs.js";
import { experimentSettings, type ExperimentSettings } from "../src/experiments/settings.js";
import { runDirFor } from "../src/experiments/train-run.js";
import { profileByName } from "../src/profiles.js";
import { writeJsonAtomic } from "../src/util/atomic.js";
import { formatDuration } from "../src/util/progress.js";
import { NOTEBOOKS, fail, runNotebook } from "./jupyter.js";
import { progressLine, trainMissing } from "./train-pool.js";
import { env } from "../src/env.js";

/** REPORT.md from the stored results alone; a clear message (never a stack trace) when something is missing. */
function reportOnly(s: ExperimentSettings): void {
  const plan = plannedRuns(s);
  if (!plan.some((r) => existsSync(resultFile(s, r.key))))
    fail(
      `--report-only rebuilds REPORT.md from the stored results, and ${displayPath(s.resultsDir)} holds none of the ${plan.length} runs it needs: run \`${trainCommand(s)}\` first (it trains them)`,
    );
  const prov = readProvenance(s);
  if (!prov) console.log(`reproduce: no ${displayPath(provenanceFile(s))}: REPORT.md says so in place of the run times`);
  let report: string;
  try {
    report = buildReport(s, prov);
  } catch (e) {
    // REPORT.md needs every notebook's runs: name the command that trains them all.
    fail(`--report-only: ${e instanceof MissingRunsError ? missingRunsMessage(s, e.missing) : `cannot build REPORT.md: ${(e as Error).message}`}`);
  }
  mkdirSync(s.figuresDir, { recursive: true });
  writeFileSync(join(s.figuresDir, "REPORT.md"), report);
  console.log(`reproduce: rewrote ${displayPath(join(s.figuresDir, "REPORT.md"))} from the ${plan.length} stored results in ${displayPath(s.resultsDir)}`);
}

/** --fresh: delete the stored results and run folders (all of the profile's, or the planned runs' with --only). */
function freshStart(s: ExperimentSettings, plan: PlannedRun[], all: boolean): void {
  const runsDir = join(s.workDir, "runs");
  const results = all
    ? existsSync(s.resultsDir)
      ? readdirSync(s.resultsDir)
          .filter((f) => f.endsWith(".json"))
          .map((f) => join(s.resultsDir, f))
      : []
    : plan.map((r) => resultFile(s, r.key)).filter(existsSync);
  const runDirs = all
    ? existsSync(runsDir)
      ? readdirSync(runsDir).map((d) => join(runsDir, d))
      : []
    : plan.map((r) => runDirFor(s, r.key)).filter(existsSync);
  for (const p of [...results, ...runDirs]) rmSync(p, { recursive: true, force: true });
  console.log(
    `reproduce: --fresh: deleted ${results.length} results from ${displayPath(s.resultsDir)} and ${runDirs.length} run folders (checkpoints) from ${displayPath(runsDir)}`,
  );
}

async function main() {
  const { values } = parseArgs({
    options: {
      profile: { type: "string", default: "mini" },
      only: { type: "string" },
      "out-dir": { type: "string" },
      jobs: { type: "string" },
      fresh: { type: "boolean" },
      "train-only": { type: "boolean" },
      "report-only": { type: "boolean" },
    },
    strict: true,
  });
  const profile = profileByName(String(values.profile)).name;
  const s = experimentSettings(profile);
  const only = values.only
    ? String(values.only)
        .split(",")
        .map((x) => x.trim())
    : undefined;
  const list = NOTEBOOKS.filter((n) => !only || only.some((o) => n.startsWith(o)));
  if (list.length === 0) fail(`--only ${values.only} matches no notebook (${NOTEBOOKS.join(", ")})`);
  const jobs = values.jobs === undefined ? availableParallelism() : Number(values.jobs);
  if (!Number.isInteger(jobs) || jobs < 1) fail(`--jobs takes a whole number >= 1, got ${values.jobs}`);
  if (values["report-only"]) return reportOnly(s);

  const plan = plannedRuns(
    s,
    EXPERIMENT_NOTEBOOKS.filter((nb) => list.includes(nb)),
  );
  if (values.fresh) freshStart(s, plan, !only);
  else if (!only && existsSync(s.resultsDir)) {
    const wanted = new Set(plan.map((r) => `${r.key}.json`));
    const stale = readdirSync(s.resultsDir).filter((f) => f.endsWith(".json") && !wanted.has(f));
    if (stale.length)
      console.log(
        `reproduce: ${displayPath(s.resultsDir)} also holds ${stale.length} results no notebook needs (made with other settings); --fresh deletes them`,
      );
  }
  // mini (the committed reproduction) executes in place; other profiles into work/<profile>/notebooks.
  const outDir = values["out-dir"] ? String(values["out-dir"]) : profile === "mini" ? "inplace" : join(s.workDir, "notebooks");
  console.log(`reproduce: profile ${profile}, seeds ${s.seeds.join(", ")}, notebooks ${list.join(", ")}; ${plan.length} training runs`);
  console.log(
    `reproduce: results -> ${displayPath(s.resultsDir)}; figures -> ${displayPath(s.figuresDir)}; executed notebooks -> ${outDir === "inplace" ? "notebooks/ (in place)" : displayPath(outDir)}`,
  );
  const started = Date.now();
  ensureData(s, (l) => console.log(`reproduce: ${l}`));
  const env = { ...process.env, MASSIVE_PROFILE: profile, MASSIVE_FIGURES: s.figuresDir };
  const training = await trainMissing(s, plan, { jobs, env });
  if (training.failed.length)
    fail(
      `${training.failed.length} run(s) failed; finished runs are kept, rerun to retry the others:\n` +
        training.failed.map((f) => `--- ${f.key}:\n${f.tail}`).join("\n"),
    );
  if (values["train-only"]) {
    console.log(
      `reproduce: --train-only: all ${plan.length} runs are in ${displayPath(s.resultsDir)} (${formatDuration(training.wallSeconds)}); rerun without --train-only to execute the notebooks`,
    );
    return;
  }

  if (outDir !== "inplace") mkdirSync(outDir, { recursive: true });
  const progressFile = join(s.workDir, "progress.log");
  const times: Record<string, number> = {};
  for (const [i, nb] of list.entries()) {
    const t0 = Date.now();
    console.log(`reproduce: [${i + 1}/${list.length}] ${nb} ...`);
    try {
      await runNotebook(nb, outDir, env, progressFile, `reproduce:   [${nb}]`);
    } catch (e) {
      fail((e as Error).message);
    }
    times[nb] = Math.round((Date.now() - t0) / 1000);
    console.log(`reproduce: [${i + 1}/${list.length}] ${nb} done in ${formatDuration(times[nb])}`);
  }
  const notebooks = list.map((nb) => {
    const f = join(notebookFiguresDir(s, nb), `${nb}-provenance.json`);
    return existsSync(f) ? (JSON.parse(readFileSync(f, "utf8")) as Record<string, unknown>) : { notebook: nb };
  });
  const git = gitState();
  const trainedNow = new Set(training.trained);
  const round1 = (x: number) => Math.round(x * 10) / 10;
  const prov: ReproduceProvenance = {
    profile,
    seeds: s.seeds,
    commit: git.commit,
    codeDirty: git.dirtyFiles.length > 0,
    ...(git.dirtyFiles.length ? { dirtyFiles: git.dirtyFiles.slice(0, 50) } : {}),
    date: new Date().toISOString(),
    command: `npm run reproduce -- --profile ${profile}${only ? ` --only ${only.join(",")}` : ""}${values.jobs ? ` --jobs ${jobs}` : ""}${values.fresh ? " --fresh" : ""}`,
    jobs,
    wallSecondsTotal: Math.round((Date.now() - started) / 1000),
    wallSecondsTraining: Math.round(training.wallSeconds),
    wallSecondsPerNotebook: times,
    runs: plan.map((r) => {
      const res = readResult(s, r.key)!;
      return {
        key: r.key,
        iterations: res.iterations,
        trainSeconds: round1(res.trainSeconds),
        evalSeconds: round1(res.evalSeconds),
        trainedNow: trainedNow.has(r.key),
        ...(res.commit ? { commit: res.commit } : {}),
      };
    }),
    notebooks,
  };
  writeJsonAtomic(provenanceFile(s), prov);
  if (git.dirtyFiles.length)
    console.log(`reproduce: note: the code differs from commit ${git.commit} (${git.dirtyFiles.length} files; PROVENANCE.json says which)`);
  if (!only) {
    writeFileSync(join(s.figuresDir, "REPORT.md"), buildReport(s, prov));
    console.log(`reproduce: wrote ${displayPath(join(s.figuresDir, "REPORT.md"))}`);
  }
  progressLine(s, `all ${list.length} notebooks ran; ${formatDuration((Date.now() - started) / 1000)} in all`);
}

main().catch((e) => fail(env("MASSIVE_DEBUG") ? ((e as Error).stack ?? String(e)) : `${(e as Error).message} (MASSIVE_DEBUG=1 shows the stack)`));
