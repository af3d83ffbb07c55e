/**
 * Running notebooks headless with the kit's own Jupyter client (src/notebook: the tslab kernel over
 * ZeroMQ, no Python), while following the experiments' progress log. Used by reproduce.ts and the tests
 * (this module has no side effects when imported).
 */
import { existsSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { EXPERIMENT_NOTEBOOKS } from "../src/experiments/plan.js";
import { CellError, executeNotebook } from "../src/notebook/execute.js";
import { kitRoot } from "../src/util/paths.js";

/** Every notebook, in order: the tutorial, then those that read the training runs. */
export const NOTEBOOKS = ["00-tutorial", ...EXPERIMENT_NOTEBOOKS];

export function fail(msg: string): never {
  console.error(`reproduce: ${msg}`);
  process.exit(1);
}

/**
 * Execute one notebook (written to outDir, or in place); print work/<profile>/progress.log's new lines
 * meanwhile. A failing cell rejects with its error, source and stderr tail (CellError.describe()).
 */
export async function runNotebook(nb: string, outDir: string | "inplace", env: NodeJS.ProcessEnv, progressFile: string, prefix: string): Promise<void> {
  const file = join(kitRoot(), "notebooks", `${nb}.ipynb`);
  let offset = existsSync(progressFile) ? statSync(progressFile).size : 0;
  const follow = setInterval(() => {
    if (!existsSync(progressFile)) return;
    const size = statSync(progressFile).size;
    if (size <= offset) return;
    const text = readFileSync(progressFile, "utf8").slice(offset);
    offset = size;
    for (const l of text.split("\n").filter(Boolean)) console.log(`${prefix} ${l.replace(/^\S+ /, "")}`);
  }, 2000);
  try {
    await executeNotebook(file, {
      out: outDir === "inplace" ? file : join(outDir, `${nb}.ipynb`),
      env,
      cwd: join(kitRoot(), "notebooks"),
      onCell: (i, total, cell) =>
        console.log(
          `${prefix} cell ${i + 1}/${total}: ${
            String([cell.source].flat().join(""))
              .split("\n")
              .find((l) => l.trim() && !l.startsWith("//"))
              ?.slice(0, 70) ?? ""
          }`,
        ),
    });
  } catch (e) {
    throw new Error(e instanceof CellError ? e.describe() : `${nb}: ${(e as Error).message}`);
  } finally {
    clearInterval(follow);
  }
}
