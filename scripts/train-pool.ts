/**
 * Training the planned runs that have no result yet, up to `jobs` at a time, each in its own process
 * (train-child.ts) with a share of the cores, and saying which run and step each job is on, on stdout and
 * in work/<profile>/progress.log. A run killed on the way continues from its last checkpoint next time.
 */
import { fork } from "node:child_process";
import { appendFileSync, closeSync, existsSync, mkdirSync, openSync, readFileSync } from "node:fs";
import { availableParallelism } from "node:os";
import { join } from "node:path";
import { displayPath } from "../src/experiments/outputs.js";
import type { PlannedRun } from "../src/experiments/plan.js";
import { readResult } from "../src/experiments/runs.js";
import type { ExperimentSettings } from "../src/experiments/settings.js";
import { formatDuration } from "../src/util/progress.js";
import { kitRoot } from "../src/util/paths.js";
import type { ChildProgress } from "./train-child.js";

export interface PoolOptions {
  jobs: number;
  env: NodeJS.ProcessEnv;
  /** Seconds between the progress lines of a running job. */
  reportEverySec?: number;
}

export interface PoolOutcome {
  trained: string[];
  failed: { key: string; tail: string }[];
  wallSeconds: number;
  /** Processor threads each job was given (1: the convolution's second thread off). */
  threadsPerJob: number;
}

/** How many threads each of `jobs` parallel runs gets: the cores shared out, at least one. */
export function threadsPerJob(jobs: number, cores = availableParallelism()): number {
  return Math.max(1, Math.floor(cores / Math.max(1, jobs)));
}

/** A line on stdout and, with its time, in work/<profile>/progress.log. */
export function progressLine(s: ExperimentSettings, line: string): void {
  mkdirSync(s.workDir, { recursive: true });
  appendFileSync(join(s.workDir, "progress.log"), `${new Date().toISOString()} ${line}\n`);
  console.log(`reproduce: ${line}`);
}

interface Job {
  run: PlannedRun;
  label: string;
  progress?: ChildProgress;
}

export async function trainMissing(s: ExperimentSettings, plan: PlannedRun[], opts: PoolOptions): Promise<PoolOutcome> {
  const started = Date.now();
  const label = (i: number) => `run ${i + 1}/${plan.length} ${plan[i].key}`;
  const missing: Job[] = [];
  mkdirSync(s.workDir, { recursive: true });
  plan.forEach((run, i) => {
    if (readResult(s, run.key)) appendFileSync(join(s.workDir, "progress.log"), `${new Date().toISOString()} ${label(i)}: cached\n`);
    else missing.push({ run, label: label(i) });
  });
  const jobs = Math.min(opts.jobs, missing.length);
  const threads = threadsPerJob(jobs);
  const outcome: PoolOutcome = { trained: [], failed: [], wallSeconds: 0, threadsPerJob: threads };
  progressLine(
    s,
    `${plan.length - missing.length} of ${plan.length} runs already in ${displayPath(s.resultsDir)}` +
      (missing.length ? `; training ${missing.length} with ${jobs} parallel job${jobs > 1 ? "s" : ""}, ${threads} thread${threads > 1 ? "s" : ""} each` : ""),
  );
  if (missing.length === 0) return outcome;
  const logs = join(s.workDir, "logs");
  mkdirSync(logs, { recursive: true });
  const env = { ...opts.env, ...(threads < 2 ? { MASSIVE_CONV_THREADS: "1" } : {}) };
  const running = new Set<Job>();
  const children = new Set<ReturnType<typeof fork>>();
  const stop = (signal: NodeJS.Signals) => {
    for (const c of children) c.kill("SIGTERM");
    progressLine(
      s,
      `stopped (${signal}): finished runs are kept, and the ${running.size} running one${running.size === 1 ? "" : "s"} continue from their last checkpoint when you rerun`,
    );
    process.exit(130);
  };
  process.once("SIGINT", stop);
  process.once("SIGTERM", stop);
  const ticker = setInterval(
    () => {
      for (const j of running) {
        const p = j.progress;
        if (p?.budget) progressLine(s, `${j.label}: step ${p.it}/${p.budget}${p.it >= p.budget ? ", evaluating" : ""}`);
      }
    },
    (opts.reportEverySec ?? 30) * 1000,
  );
  const script = join(kitRoot(), "dist", "scripts", "train-child.js");
  const runOne = (job: Job): Promise<void> =>
    new Promise((resolve) => {
      const logFile = join(logs, `${job.run.key}.log`);
      const fd = openSync(logFile, "a");
      const t0 = Date.now();
      const child = fork(script, [s.profile, job.run.key], { env, stdio: ["ignore", fd, fd, "ipc"] });
      children.add(child);
      running.add(job);
      child.on("message", (m: ChildProgress) => {
        if (!job.progress) progressLine(s, `${job.label}: ${m.resumed && m.it > 0 ? `resumed at step ${m.it} from its last checkpoint` : "training"}`);
        job.progress = m;
      });
      child.on("exit", (code, signal) => {
        closeSync(fd);
        children.delete(child);
        running.delete(job);
        const result = code === 0 ? readResult(s, job.run.key) : undefined;
        if (result) {
          outcome.trained.push(job.run.key);
          progressLine(
            s,
            `${job.label}: done, ${result.iterations} steps in ${formatDuration((Date.now() - t0) / 1000)}, Average Dice ${result.final.average?.toFixed(4) ?? "-"}`,
          );
        } else {
          const tail = existsSync(logFile) ? readFileSync(logFile, "utf8").trim().split("\n").slice(-15).join("\n") : "";
          outcome.failed.push({ key: job.run.key, tail });
          progressLine(s, `${job.label}: failed (${signal ?? `exit code ${code}`}); its log: ${displayPath(logFile)}`);
        }
        resolve();
      });
    });
  const queue = [...missing];
  const worker = async () => {
    for (let job = queue.shift(); job; job = queue.shift()) await runOne(job);
  };
  try {
    await Promise.all(Array.from({ length: jobs }, worker));
  } finally {
    clearInterval(ticker);
    process.off("SIGINT", stop);
    process.off("SIGTERM", stop);
  }
  outcome.wallSeconds = (Date.now() - started) / 1000;
  return outcome;
}
