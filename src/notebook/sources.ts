/**
 * Notebook sources as TypeScript files (notebooks/src/*.ts, type-checked by `tsc` with the rest of the kit)
 * in the "percent" cell format: a line `// %%` starts a code cell, `// %% [markdown]` a Markdown cell
 * whose lines are `// `-prefixed comments. Lines before the first marker are the file's own header.
 * `notebookFromSource` turns one into an nbformat-4 notebook (unexecuted).
 */
import { TSLAB_METADATA, sourceText, type Cell, type Notebook } from "./nbformat.js";

export interface SourceCell {
  kind: "code" | "markdown";
  text: string;
}

const MARKER = /^\/\/ %%(?:\s+\[(markdown|md)\])?\s*$/;

export function parseNotebookSource(text: string): SourceCell[] {
  const cells: SourceCell[] = [];
  let cur: { kind: "code" | "markdown"; lines: string[] } | undefined;
  const flush = () => {
    if (!cur) return;
    const body = cur.lines.join("\n").replace(/^\n+|\s+$/g, "");
    if (body) cells.push({ kind: cur.kind, text: body });
  };
  for (const line of text.split("\n")) {
    const m = MARKER.exec(line);
    if (m) {
      flush();
      cur = { kind: m[1] ? "markdown" : "code", lines: [] };
      continue;
    }
    if (!cur) continue; // header
    if (cur.kind === "markdown") {
      if (line.trim() !== "" && !/^\/\/( |$)/.test(line)) throw new Error(`markdown cell line is not a "// " comment: ${line}`);
      cur.lines.push(line.replace(/^\/\/ ?/, ""));
    } else cur.lines.push(line);
  }
  flush();
  return cells;
}

export function notebookFromSource(name: string, text: string): Notebook {
  const cells: Cell[] = parseNotebookSource(text).map((c, i) => {
    const id = `${name.slice(0, 2)}-${String(i).padStart(2, "0")}`;
    return c.kind === "markdown"
      ? { cell_type: "markdown", id, metadata: {}, source: c.text }
      : { cell_type: "code", id, metadata: {}, source: c.text, execution_count: null, outputs: [] };
  });
  return { cells, metadata: { ...TSLAB_METADATA }, nbformat: 4, nbformat_minor: 5 };
}

/** Whether a notebook's cells (kinds and sources) are those of its TypeScript source. */
export function cellsMatch(nb: Notebook, fromSource: Notebook): { same: boolean; firstDifference?: string } {
  const a = nb.cells,
    b = fromSource.cells;
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    if (!a[i] || !b[i]) return { same: false, firstDifference: `cell count ${a.length} vs ${b.length} in the source` };
    if (a[i].cell_type !== b[i].cell_type) return { same: false, firstDifference: `cell ${i + 1}: ${a[i].cell_type} vs ${b[i].cell_type} in the source` };
    if (sourceText(a[i].source) !== sourceText(b[i].source))
      return { same: false, firstDifference: `cell ${i + 1} (${a[i].cell_type}) differs from the source` };
  }
  return { same: true };
}
