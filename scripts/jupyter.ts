/**
 * Running notebooks headless: find a python with Jupyter, register the tslab kernel, execute a notebook
 * with nbconvert while following the experiments' progress log. Used by reproduce.ts and the tests
 * (this module has no side effects when imported).
 */
import { spawn, spawnSync } from "node:child_process";
import { existsSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { kitRoot } from "../src/util/paths.js";

export const NOTEBOOKS = ["00-tutorial", "01-table1-data-efficiency", "02-table2-dynamic-adaptation", "03-figure2-forgetting", "04-figure3-diverse-memory"];

export function fail(msg: string): never {
  console.error(`reproduce: ${msg}`);
  process.exit(1);
}

/** A python with jupyter_client (Debian's /usr/bin/python3 when pyenv's python3 lacks it). */
export function jupyterPython(): string {
  for (const py of [process.env.PYTHON, "python3", "/usr/bin/python3"]) {
    if (py && spawnSync(py, ["-c", "import jupyter_client, nbclient, nbconvert"], { stdio: "ignore" }).status === 0) return py;
  }
  fail("no python3 with jupyter_client, nbclient and nbconvert; on Debian: apt-get install jupyter-nbconvert python3-nbclient python3-jupyter-client python3-ipykernel");
}

export function registerTslab(py: string): void {
  const bin = join(kitRoot(), "node_modules", ".bin", "tslab");
  if (!existsSync(bin)) fail(`${bin} missing; run npm ci`);
  const r = spawnSync(bin, ["install", `--python=${py}`, `--binary=${bin}`], { encoding: "utf8" });
  if (r.status !== 0) fail(`tslab install failed: ${r.stderr || r.stdout}`);
}

/** Execute one notebook with nbconvert; follow work/<profile>/progress.log meanwhile. */
export function executeNotebook(py: string, nb: string, outDir: string | "inplace", env: NodeJS.ProcessEnv, progressFile: string, prefix: string): Promise<void> {
  const args = ["-m", "nbconvert", "--to", "notebook", "--execute", "--ExecutePreprocessor.timeout=-1", "--ExecutePreprocessor.kernel_name=tslab"];
  if (outDir === "inplace") args.push("--inplace");
  else args.push("--output-dir", outDir);
  args.push(join(kitRoot(), "notebooks", `${nb}.ipynb`));
  let offset = existsSync(progressFile) ? statSync(progressFile).size : 0;
  const follow = setInterval(() => {
    if (!existsSync(progressFile)) return;
    const size = statSync(progressFile).size;
    if (size <= offset) return;
    const text = readFileSync(progressFile, "utf8").slice(offset);
    offset = size;
    for (const l of text.split("\n").filter(Boolean)) console.log(`${prefix} ${l.replace(/^\S+ /, "")}`);
  }, 2000);
  return new Promise((resolve, reject) => {
    const child = spawn(py, args, { env, stdio: ["ignore", "pipe", "pipe"] });
    let err = "";
    child.stderr.on("data", (d: Buffer) => (err += d.toString()));
    child.stdout.on("data", () => {});
    child.on("exit", (code) => {
      clearInterval(follow);
      if (code === 0) resolve();
      else reject(new Error(`${nb} failed (nbconvert exit ${code}):\n${err.split("\n").slice(-40).join("\n")}`));
    });
  });
}

