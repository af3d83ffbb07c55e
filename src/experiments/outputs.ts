/**
 * What a notebook leaves in figures/<notebook>/: tables (CSV, JSON), figures (PNG, SVG, HTML, JSON),
 * provenance. figures/ itself holds plotly.min.js (once, for every HTML figure), PROVENANCE.json and
 * REPORT.md.
 */
import { mkdirSync } from "node:fs";
import { join, relative } from "node:path";
import { backendReport, describeBackend, initBackend, type BackendReport } from "../backend.js";
import { showFigure, showHtml, showMarkdown, inNotebook } from "../report/display.js";
import { exportFigure } from "../report/export.js";
import type { PlotlyFigure } from "../report/plots.js";
import { rowsToHtml, toDataFrame, writeCsv, type Row } from "../report/tables.js";
import { writeJsonAtomic } from "../util/atomic.js";
import { kitRoot } from "../util/paths.js";
import { gitCommit } from "./git-state.js";
import { experimentSettings, notebookProfile, type ExperimentSettings } from "./settings.js";

/** figures/<notebook>/ */
export function notebookFiguresDir(settings: ExperimentSettings, name: string): string {
  return join(settings.figuresDir, name);
}

export class NotebookOutputs {
  private readonly started = Date.now();
  readonly files: string[] = [];

  constructor(
    readonly settings: ExperimentSettings,
    /** e.g. "01-table1-data-efficiency" */
    readonly name: string,
  ) {
    mkdirSync(notebookFiguresDir(settings, name), { recursive: true });
  }

  private base(suffix = ""): string {
    return join(notebookFiguresDir(this.settings, this.name), `${this.name}${suffix}`);
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

  /** Show Markdown (e.g. text generated from the results); printed as text outside a notebook. */
  markdown(md: string): void {
    if (!showMarkdown(md)) console.log(md);
  }

  /** Show a figure inline and export it as PNG, SVG, HTML and JSON (PNG/SVG only with Chromium). */
  async figure(fig: PlotlyFigure, suffix = ""): Promise<void> {
    if (inNotebook()) await showFigure(fig);
    this.files.push(...(await exportFigure(fig, this.base(suffix), undefined, this.settings.figuresDir)));
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
      files: this.files.map((f) => relative(this.settings.figuresDir, f)),
      ...extra,
    };
    writeJsonAtomic(`${this.base("-provenance")}.json`, prov);
    return prov;
  }
}

/** A path as the reader should see it: relative to the kit when inside it (outputs travel in git). */
export function displayPath(p: string): string {
  const r = relative(kitRoot(), p);
  return r.startsWith("..") ? p : r || ".";
}

/** The backend in one short line (the full description goes to provenance). */
export function backendLine(r: BackendReport): string {
  const gpu = r.backend === "tensorflow" ? `, GPU ${r.gpu}` : "";
  const skipped = r.skipped.length ? `; skipped ${r.skipped.map((x) => x.provider.replace("@tensorflow/", "")).join(", ")}` : "";
  return `backend: ${r.backend}${gpu}${skipped}`;
}

/**
 * A notebook's first cell: the profile (MASSIVE_PROFILE, default mini), its settings, the outputs object,
 * and the backend, all announced on stdout in two short lines with relative paths.
 */
export async function openNotebook(
  name: string,
): Promise<{ profile: ExperimentSettings["profile"]; settings: ExperimentSettings; out: NotebookOutputs; backend: BackendReport }> {
  const profile = notebookProfile();
  const settings = experimentSettings(profile);
  const out = new NotebookOutputs(settings, name);
  const backend = await initBackend({ log: () => {} });
  console.log(`profile ${profile}, seeds ${settings.seeds.join(", ")}; figures -> ${displayPath(join(settings.figuresDir, name))}`);
  console.log(backendLine(backend));
  return { profile, settings, out, backend };
}
