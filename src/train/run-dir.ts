/**
 * A run folder: config.json (what was asked), metrics.jsonl (one JSON object per line: steps, arrivals,
 * site ends, epochs, evaluations), checkpoint/ (see checkpoint.ts) and final-eval.json.
 */
import { appendFileSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { TrainConfig } from "./config.js";

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

  /** After a resume: drop metric lines past the checkpoint's iteration, which the run will redo. */
  truncateMetricsAfter(it: number): void {
    if (!existsSync(this.metricsFile)) return;
    const keep = readFileSync(this.metricsFile, "utf8")
      .split("\n")
      .filter((l) => l.trim())
      .filter((l) => {
        try {
          const r = JSON.parse(l) as { it?: number };
          return r.it === undefined || r.it <= it;
        } catch {
          return false; // a half-written last line of a killed run
        }
      });
    writeFileSync(this.metricsFile, keep.map((l) => l + "\n").join(""));
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

export function writeJsonAtomic(file: string, value: unknown): void {
  const tmp = `${file}.tmp-${process.pid}`;
  writeFileSync(tmp, JSON.stringify(value, null, 1));
  renameSync(tmp, file);
}
