/**
 * Execute a notebook on the tslab kernel through this kit's own Jupyter client (no Python): every code
 * cell in order, outputs and execution counts recorded, stopping at the first failing cell (as
 * nbconvert does). The executed notebook is written even when a cell fails, so the error can be read.
 */
import { dirname, resolve } from "node:path";
import { KernelClient, type CellOutput } from "./kernel.js";
import { readNotebook, sourceText, toNbOutput, writeNotebook, type CodeCell, type Notebook } from "./nbformat.js";
import { kitRoot } from "../util/paths.js";

export interface ExecuteNotebookOptions {
  /** Where to write the executed notebook (default: in place). */
  out?: string;
  env?: NodeJS.ProcessEnv;
  /** Kernel working directory (default: the notebook's folder, as Jupyter does). */
  cwd?: string;
  /** Per-cell time limit in milliseconds (default: none). */
  cellTimeoutMs?: number;
  /** Called as each code cell starts. */
  onCell?: (index: number, total: number, cell: CodeCell) => void;
  onOutput?: (out: CellOutput, update: boolean) => void;
}

export class CellError extends Error {
  constructor(
    readonly notebook: string,
    readonly cellIndex: number,
    readonly ename: string,
    readonly evalue: string,
    readonly stderrTail: string,
    readonly source: string,
  ) {
    super(`${notebook}: cell ${cellIndex + 1} failed: ${ename}: ${evalue || "(no message)"}`);
    this.name = "CellError";
  }

  /** The error, the cell's first lines, and the tail of its stderr: what a reader needs to act. */
  describe(): string {
    const src = this.source
      .split("\n")
      .slice(0, 6)
      .map((l) => `    | ${l}`)
      .join("\n");
    const tail = this.stderrTail.trim()
      ? this.stderrTail
          .trimEnd()
          .split("\n")
          .map((l) => `    ${l}`)
          .join("\n")
      : "    (the cell wrote nothing on stderr)";
    return `${this.message}\n  cell source:\n${src}\n  stderr (last lines):\n${tail}`;
  }
}

/** Replace the kit's absolute folder with a relative path in text outputs (outputs travel in git). */
export function relativizePaths(text: string, root = kitRoot()): string {
  return text.split(`${root}/`).join("").split(root).join(".");
}

function relativizeOutput(o: CellOutput, root: string): CellOutput {
  if (o.output_type === "stream") return { ...o, text: relativizePaths(o.text, root) };
  if (o.output_type === "error") return { ...o, evalue: relativizePaths(o.evalue, root), traceback: o.traceback.map((l) => relativizePaths(l, root)) };
  const data = Object.fromEntries(Object.entries(o.data).map(([k, v]) => [k, typeof v === "string" && k.startsWith("text/") ? relativizePaths(v, root) : v]));
  return { ...o, data };
}

export async function executeNotebook(file: string, opts: ExecuteNotebookOptions = {}): Promise<Notebook> {
  const nb = readNotebook(file);
  const root = kitRoot();
  const code = nb.cells.filter((c): c is CodeCell => c.cell_type === "code");
  for (const c of code) {
    c.outputs = [];
    c.execution_count = null;
  }
  const kernel = new KernelClient({ cwd: opts.cwd ?? dirname(resolve(file)), env: opts.env });
  let failure: CellError | undefined;
  try {
    await kernel.start();
    for (const [i, cell] of code.entries()) {
      opts.onCell?.(i, code.length, cell);
      const r = await kernel.execute(sourceText(cell.source), { timeoutMs: opts.cellTimeoutMs, onOutput: opts.onOutput });
      cell.execution_count = r.executionCount;
      cell.outputs = r.outputs.map((o) => toNbOutput(relativizeOutput(o, root)));
      if (r.status !== "ok") {
        const e = r.error ?? { ename: r.status, evalue: "", traceback: [] };
        failure = new CellError(
          file.replace(`${root}/`, ""),
          nb.cells.indexOf(cell),
          e.ename,
          e.evalue,
          r.stderr.split("\n").slice(-25).join("\n"),
          sourceText(cell.source),
        );
        break;
      }
    }
  } finally {
    await kernel.shutdown();
  }
  writeNotebook(opts.out ?? file, nb);
  if (failure) throw failure;
  return nb;
}
