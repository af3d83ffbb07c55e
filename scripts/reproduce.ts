/**
 * `npm run reproduce [-- --profile smoke|mini] [--only 01,03]`: execute every notebook headless on the
 * tslab kernel (Jupyter nbconvert/nbclient), save them with their outputs, and regenerate the figures
 * folder, PROVENANCE.json and REPORT.md. Registers the tslab kernel itself; stops at the first failing
 * notebook with its error.
 */
import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { ensureData } from "../src/experiments/data.js";
import { buildReport } from "../src/experiments/report.js";
import { experimentSettings } from "../src/experiments/settings.js";
import { gitCommit } from "../src/experiments/outputs.js";
import { profileByName } from "../src/profiles.js";
import { writeJsonAtomic } from "../src/train/run-dir.js";
import { formatDuration } from "../src/util/progress.js";
import { kitRoot } from "../src/util/paths.js";
import { writeFileSync } from "node:fs";

export const NOTEBOOKS = ["00-tutorial", "01-table1-data-efficiency", "02-table2-dynamic-adaptation", "03-figure2-forgetting", "04-figure3-diverse-memory"];

function fail(msg: string): never {
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

async function main() {
  const { values } = parseArgs({ options: { profile: { type: "string", default: "mini" }, only: { type: "string" }, "out-dir": { type: "string" } }, strict: true });
  const profile = profileByName(String(values.profile)).name;
  const settings = experimentSettings(profile);
  const only = values.only ? String(values.only).split(",").map((s) => s.trim()) : undefined;
  const list = NOTEBOOKS.filter((n) => !only || only.some((o) => n.startsWith(o)));
  if (list.length === 0) fail(`--only ${values.only} matches no notebook (${NOTEBOOKS.join(", ")})`);
  // mini (the committed reproduction) executes in place; other profiles into work/<profile>/notebooks.
  const outDir = values["out-dir"] ? String(values["out-dir"]) : profile === "mini" ? "inplace" : join(settings.workDir, "notebooks");
  if (outDir !== "inplace") mkdirSync(outDir, { recursive: true });
  const py = jupyterPython();
  registerTslab(py);
  console.log(`reproduce: profile ${profile}, seeds ${settings.seeds.join(", ")}, notebooks ${list.join(", ")}`);
  console.log(`reproduce: figures -> ${settings.figuresDir}; executed notebooks -> ${outDir === "inplace" ? "notebooks/ (in place)" : outDir}`);
  const data = ensureData(settings, (l) => console.log(`reproduce: ${l}`));
  const env = { ...process.env, MASSIVE_PROFILE: profile, MASSIVE_FIGURES: settings.figuresDir };
  const progressFile = join(settings.workDir, "progress.log");
  const started = Date.now();
  const times: Record<string, number> = {};
  for (const [i, nb] of list.entries()) {
    const t0 = Date.now();
    console.log(`reproduce: [${i + 1}/${list.length}] ${nb} ...`);
    try {
      await executeNotebook(py, nb, outDir, env, progressFile, `reproduce:   [${nb}]`);
    } catch (e) {
      fail((e as Error).message);
    }
    times[nb] = Math.round((Date.now() - t0) / 1000);
    console.log(`reproduce: [${i + 1}/${list.length}] ${nb} done in ${formatDuration(times[nb])}`);
  }
  const provenance = list.map((nb) => {
    const f = join(settings.figuresDir, `${nb}-provenance.json`);
    return existsSync(f) ? (JSON.parse(readFileSync(f, "utf8")) as Record<string, unknown>) : { notebook: nb };
  });
  writeJsonAtomic(join(settings.figuresDir, "PROVENANCE.json"), {
    profile,
    seeds: settings.seeds,
    commit: gitCommit(),
    date: new Date().toISOString(),
    command: `npm run reproduce -- --profile ${profile}${only ? ` --only ${only.join(",")}` : ""}`,
    wallSecondsPerNotebook: times,
    wallSecondsTotal: Math.round((Date.now() - started) / 1000),
    notebooks: provenance,
  });
  if (!only) {
    writeFileSync(join(settings.figuresDir, "REPORT.md"), await buildReport(settings, data, provenance.map((p) => ({ ...p, wallSeconds: times[String(p.notebook)] }))));
    console.log(`reproduce: wrote ${join(settings.figuresDir, "REPORT.md")}`);
  }
  console.log(`reproduce: all ${list.length} notebooks ran in ${formatDuration((Date.now() - started) / 1000)}`);
}

main().catch((e) => fail((e as Error).stack ?? String(e)));
