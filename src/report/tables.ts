/**
 * Result tables as danfo DataFrames (the user's choice of table library), with CSV and HTML renderings
 * for figures/ and notebook output.
 */
import { writeFileSync, mkdirSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { kitRoot } from "../util/paths.js";

export type Cell = string | number | null;
export type Row = Record<string, Cell>;

interface DataFrameLike {
  shape: number[];
  columns: string[];
  values: Cell[][];
  print(): void;
  toString(): string;
}

/** danfojs-node is CommonJS and heavy: load it on first use only. */
export function danfo(): { DataFrame: new (rows: Row[]) => DataFrameLike } {
  const req = createRequire(join(kitRoot(), "package.json"));
  return req("danfojs-node") as { DataFrame: new (rows: Row[]) => DataFrameLike };
}

export function toDataFrame(rows: Row[]): DataFrameLike {
  const D = danfo();
  return new D.DataFrame(rows);
}

const esc = (s: string) => s.replace(/[&<>]/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;" })[c]!);

export function formatCell(v: Cell, digits = 4): string {
  if (v === null || v === undefined) return "";
  return typeof v === "number" ? (Number.isInteger(v) ? String(v) : v.toFixed(digits)) : v;
}

export function rowsToCsv(rows: Row[]): string {
  const cols = [...new Set(rows.flatMap((r) => Object.keys(r)))];
  const q = (s: string) => (/[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s);
  return [cols.join(","), ...rows.map((r) => cols.map((c) => q(formatCell(r[c] ?? null, 6))).join(","))].join("\n") + "\n";
}

export function rowsToHtml(rows: Row[], caption = ""): string {
  const cols = [...new Set(rows.flatMap((r) => Object.keys(r)))];
  const head = cols.map((c) => `<th>${esc(c)}</th>`).join("");
  const body = rows.map((r) => `<tr>${cols.map((c) => `<td>${esc(formatCell(r[c] ?? null))}</td>`).join("")}</tr>`).join("\n");
  return `<table class="massive-table">${caption ? `<caption>${esc(caption)}</caption>` : ""}<thead><tr>${head}</tr></thead><tbody>\n${body}\n</tbody></table>`;
}

export function writeCsv(file: string, rows: Row[]): void {
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, rowsToCsv(rows));
}
