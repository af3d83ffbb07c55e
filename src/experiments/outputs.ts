/** What a notebook leaves in figures/: tables (CSV, JSON), figures (PNG, SVG, HTML, JSON), provenance. */
import { execFileSync } from "node:child_process";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { backendReport, describeBackend } from "../backend.js";
import { showFigure, showHtml, inNotebook } from "../report/display.js";
import { exportFigure } from "../report/export.js";
import type { PlotlyFigure } from "../report/plots.js";
import { rowsToHtml, toDataFrame, writeCsv, type Row } from "../report/tables.js";
import { writeJsonAtomic } from "../train/run-dir.js";
import { kitRoot } from "../util/paths.js";
import type { ExperimentSettings } from "./settings.js";

export function gitCommit(): string {
  try {
    const head = execFileSync("git", ["rev-parse", "--short", "HEAD"], { cwd: kitRoot(), encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }).trim();
    const dirty = execFileSync("git", ["status", "--porcelain", "--untracked-files=no"], { cwd: kitRoot(), encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }).trim();
    return dirty ? `${head} (with uncommitted changes)` : head;
  } catch {
    return "unknown";
  }
}

export class NotebookOutputs {
  private readonly started = Date.now();
  readonly files: string[] = [];

  constructor(
    readonly settings: ExperimentSettings,
    /** e.g. "01-table1-data-efficiency" */
    readonly name: string,
  ) {
    mkdirSync(settings.figuresDir, { recursive: true });
  }

  private base(suffix = ""): string {
    return join(this.settings.figuresDir, `${this.name}${suffix}`);
  }

  /** The last table, as a danfo DataFrame. */
  lastTable?: ReturnType<typeof toDataFrame>;

  /** Show a table (HTML in notebooks, a danfo DataFrame print elsewhere) and write it as CSV. */
  table(rows: Row[], suffix = "", caption = ""): void {
    const file = `${this.base(suffix)}.csv`;
    writeCsv(file, rows);
    this.files.push(file);
    const df = toDataFrame(rows.map((r) => Object.fromEntries(Object.entries(r).map(([k, v]) => [k, v ?? ""]))));
    this.lastTable = df;
    if (inNotebook()) showHtml(rowsToHtml(rows, caption), df.toString());
    else df.print();
  }

  /** Show a figure inline and export it as PNG, SVG, HTML and JSON. */
  async figure(fig: PlotlyFigure, suffix = ""): Promise<void> {
    if (inNotebook()) await showFigure(fig);
    this.files.push(...(await exportFigure(fig, this.base(suffix))));
  }

  /** Raw results for later analysis. */
  json(value: unknown, suffix = "-results"): void {
    const file = `${this.base(suffix)}.json`;
    writeJsonAtomic(file, value);
    this.files.push(file);
  }

  /** Provenance: commit, date, backend, profile, seeds, wall time; written last. */
  finish(extra: Record<string, unknown> = {}): Record<string, unknown> {
    const report = backendReport();
    const prov = {
      notebook: this.name,
      profile: this.settings.profile,
      seeds: this.settings.seeds,
      commit: gitCommit(),
      date: new Date().toISOString(),
      backend: report ? describeBackend(report) : "not initialised",
      wallSeconds: Math.round((Date.now() - this.started) / 1000),
      files: this.files.map((f) => f.replace(kitRoot() + "/", "")),
      ...extra,
    };
    writeJsonAtomic(`${this.base("-provenance")}.json`, prov);
    return prov;
  }
}
