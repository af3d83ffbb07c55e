/**
 * A run folder: config.json (what was asked), metrics.jsonl (one JSON object per line: steps, arrivals,
 * site ends, epochs, evaluations; each with its iteration "it"), timing.jsonl (milliseconds per step),
 * checkpoint/ (see checkpoint.ts) and final-eval.json.
 */
import { appendFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { writeJsonAtomic } from "../util/atomic.js";
import type { TrainConfig } from "./config.js";
import type { TrainEvents } from "./events.js";

export interface RunInfo {
  config: TrainConfig;
  data: string;
  sites?: string[];
  /** Pre-trained weights the run started from (`massive train --init <file.pt>`). */
  init?: string;
  createdAt: string;
  backend?: string;
}

export class RunDir {
  constructor(readonly dir: string) {
    mkdirSync(dir, { recursive: true });
  }

  /** An existing run folder (never created): for reading a run, e.g. massive eval --run. */
  static open(dir: string): RunDir {
    if (!existsSync(join(dir, "config.json"))) {
      throw new Error(`${dir}: not a run folder (${existsSync(dir) ? "no config.json" : "no such folder"}); pass the --out of a massive train run`);
    }
    return new RunDir(dir);
  }

  get metricsFile(): string {
    return join(this.dir, "metrics.jsonl");
  }

  writeInfo(info: RunInfo): void {
    writeJsonAtomic(join(this.dir, "config.json"), info);
  }

  readInfo(): RunInfo {
    const f = join(this.dir, "config.json");
    if (!existsSync(f)) throw new Error(`${this.dir}: not a run folder (no config.json)`);
    return JSON.parse(readFileSync(f, "utf8")) as RunInfo;
  }

  append(record: Record<string, unknown>): void {
    appendFileSync(this.metricsFile, JSON.stringify(record) + "\n");
  }

  /** Per-step wall-clock times (kept out of metrics.jsonl, which is deterministic). */
  get timingFile(): string {
    return join(this.dir, "timing.jsonl");
  }

  appendTiming(record: { it: number; ms: number }): void {
    appendFileSync(this.timingFile, JSON.stringify(record) + "\n");
  }

  /**
   * When a run starts at iteration `it` (0: fresh; else the checkpoint's): drop the records the run will
   * write again, so that a killed and resumed run's metrics.jsonl is the uninterrupted run's, byte for
   * byte. Every record carries the iteration it was written at: steps and site ends at iteration `it`
   * came before the checkpoint, arrivals and epoch ends at `it` after it (they precede step it + 1).
   */
  truncateMetricsAfter(it: number): void {
    for (const file of [this.metricsFile, this.timingFile]) {
      if (!existsSync(file)) continue;
      const keep =
        it === 0
          ? []
          : readFileSync(file, "utf8")
              .split("\n")
              .filter((l) => l.trim())
              .filter((l) => {
                try {
                  const r = JSON.parse(l) as { it?: number; type?: string };
                  if (r.it === undefined) return true; // an older kit's record: cannot place it
                  return r.it < it || (r.it === it && (r.type === undefined || r.type === "step" || r.type === "site-end"));
                } catch {
                  return false; // a half-written last line of a killed run
                }
              });
      writeFileSync(file, keep.map((l) => l + "\n").join(""));
    }
  }

  readMetrics(): Record<string, unknown>[] {
    if (!existsSync(this.metricsFile)) return [];
    return readFileSync(this.metricsFile, "utf8")
      .split("\n")
      .filter((l) => l.trim())
      .map((l) => JSON.parse(l) as Record<string, unknown>);
  }

  writeJson(name: string, value: unknown): void {
    writeJsonAtomic(join(this.dir, name), value);
  }
}

/** The events that write a run folder's metrics.jsonl and timing.jsonl (massive train's records). */
export function metricsEvents(run: RunDir, log: (line: string) => void = (l) => process.stderr.write(l + "\n")): TrainEvents {
  return {
    onStart: (e) => {
      if (e.done) log(`train: ${run.dir} already finished; evaluating again`);
      else run.truncateMetricsAfter(e.it);
    },
    onStep: (e) => {
      run.append({ type: "step", it: e.it, loss: e.loss, lr: e.lr, cases: e.cases });
      run.appendTiming({ it: e.it, ms: Math.round(e.ms) });
    },
    onArrival: (e) =>
      run.append({ type: "arrival", it: e.it, pos: e.pos, site: e.site, memorySize: e.memorySize, ...(e.rank !== undefined ? { rank: e.rank } : {}) }),
    onSiteEnd: (e) => run.append({ type: "site-end", it: e.it, site: e.site, memory: e.memory }),
    onEpochEnd: (e) => run.append({ type: "epoch-end", it: e.it, epoch: e.epoch }),
  };
}
