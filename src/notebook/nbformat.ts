/** nbformat 4 notebooks: the types this kit reads and writes, and a writer in Jupyter's own layout. */
import { readFileSync, writeFileSync, renameSync } from "node:fs";
import type { CellOutput } from "./kernel.js";

export interface MarkdownCell {
  cell_type: "markdown";
  id: string;
  metadata: Record<string, unknown>;
  source: string | string[];
}

export interface CodeCell {
  cell_type: "code";
  id: string;
  metadata: Record<string, unknown>;
  source: string | string[];
  execution_count: number | null;
  outputs: NbOutput[];
}

export type Cell = MarkdownCell | CodeCell;

/** Outputs as stored: multi-line strings split into lists of lines, as Jupyter writes them. */
export type NbOutput = Record<string, unknown> & { output_type: string };

export interface Notebook {
  cells: Cell[];
  metadata: Record<string, unknown>;
  nbformat: 4;
  nbformat_minor: number;
}

export const TSLAB_METADATA = {
  kernelspec: { display_name: "TypeScript", language: "typescript", name: "tslab" },
  language_info: {
    codemirror_mode: { mode: "typescript", name: "javascript", typescript: true },
    file_extension: ".ts",
    mimetype: "text/typescript",
    name: "typescript",
    version: "3.7.2",
  },
};

export function sourceText(s: string | string[]): string {
  return Array.isArray(s) ? s.join("") : s;
}

/** "a\nb\n" -> ["a\n", "b\n"] (nbformat's multiline string). */
export function splitLines(text: string): string[] {
  const parts = text.split(/(?<=\n)/);
  return parts.length === 1 && parts[0] === "" ? [] : parts;
}

const TEXT_MIME = /^text\/|\+json$|^application\/json$|^image\/svg\+xml$/;

/** A kernel output in nbformat's stored shape (text split into lines; JSON MIME types kept as objects). */
export function toNbOutput(o: CellOutput): NbOutput {
  switch (o.output_type) {
    case "stream":
      return { output_type: "stream", name: o.name, text: splitLines(o.text) };
    case "error":
      return { output_type: "error", ename: o.ename, evalue: o.evalue, traceback: o.traceback };
    case "display_data":
    case "execute_result": {
      const data: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(o.data)) {
        if (typeof v === "string" && TEXT_MIME.test(k) && !k.endsWith("json")) data[k] = splitLines(v);
        else data[k] = v;
      }
      return o.output_type === "display_data"
        ? { output_type: "display_data", data, metadata: o.metadata ?? {} }
        : { output_type: "execute_result", data, metadata: o.metadata ?? {}, execution_count: o.execution_count };
    }
  }
}

export function readNotebook(file: string): Notebook {
  const nb = JSON.parse(readFileSync(file, "utf8")) as Notebook;
  if (nb.nbformat !== 4) throw new Error(`${file}: nbformat ${nb.nbformat}, expected 4`);
  return nb;
}

/** Jupyter's layout: indent 1, keys sorted, a trailing newline; sources as lists of lines. */
export function serializeNotebook(nb: Notebook): string {
  const sortKeys = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(sortKeys);
    if (v && typeof v === "object")
      return Object.fromEntries(
        Object.keys(v as object)
          .sort()
          .map((k) => [k, sortKeys((v as Record<string, unknown>)[k])]),
      );
    return v;
  };
  const cells = nb.cells.map((c) => ({ ...c, source: splitLines(sourceText(c.source)) }));
  return JSON.stringify(sortKeys({ ...nb, cells }), null, 1) + "\n";
}

export function writeNotebook(file: string, nb: Notebook): void {
  const tmp = `${file}.tmp-${process.pid}`;
  writeFileSync(tmp, serializeNotebook(nb));
  renameSync(tmp, file);
}
