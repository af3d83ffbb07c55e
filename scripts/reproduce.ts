/**
 * `npm run reproduce [-- --profile smoke|mini] [--only 01,03]`: execute every notebook headless on the
 * tslab kernel through the kit's own Jupyter client (src/notebook: ZeroMQ, no Python or Jupyter needed),
 * save them with their outputs and execution counts, and regenerate the figures folder, PROVENANCE.json
 * and REPORT.md. Stops at the first failing cell with its error and the tail of its stderr. `--report-only` rewrites REPORT.md from the cached runs and PROVENANCE.json
 * (after a change to the report's wording; nothing is trained or executed).
 */
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from "node:fs";
import { join, relative } from "node:path";
import { parseArgs } from "node:util";
import { ensureData } from "../src/experiments/data.js";
import { buildReport } from "../src/experiments/report.js";
import { experimentSettings } from "../src/experiments/settings.js";
import { gitCommit, notebookFiguresDir } from "../src/experiments/outputs.js";
import { profileByName } from "../src/profiles.js";
import { writeJsonAtomic } from "../src/train/run-dir.js";
import { formatDuration } from "../src/util/progress.js";
import { kitRoot } from "../src/util/paths.js";
import { NOTEBOOKS, fail, runNotebook } from "./jupyter.js";

async function main() {
  const { values } = parseArgs({ options: { profile: { type: "string", default: "mini" }, only: { type: "string" }, "out-dir": { type: "string" }, "report-only": { type: "boolean" } }, strict: true });
  const profile = profileByName(String(values.profile)).name;
  const settings = experimentSettings(profile);
  const only = values.only ? String(values.only).split(",").map((s) => s.trim()) : undefined;
  const list = NOTEBOOKS.filter((n) => !only || only.some((o) => n.startsWith(o)));
  if (list.length === 0) fail(`--only ${values.only} matches no notebook (${NOTEBOOKS.join(", ")})`);
  if (values["report-only"]) {
    const provFile = join(settings.figuresDir, "PROVENANCE.json");
    const resultsDir = join(settings.workDir, "results");
    const rel = (p: string) => relative(process.cwd(), p) || ".";
    const cached = existsSync(resultsDir) ? readdirSync(resultsDir).filter((f) => f.endsWith(".json")) : [];
    if (cached.length === 0)
      fail(`--report-only rebuilds REPORT.md from cached runs, and ${rel(resultsDir)} holds none: run \`npm run reproduce -- --profile ${profile}\` first (it trains them)`);
    if (!existsSync(provFile)) fail(`--report-only needs ${rel(provFile)} from a full run: run \`npm run reproduce -- --profile ${profile}\` first`);
    const prov = JSON.parse(readFileSync(provFile, "utf8")) as { wallSecondsPerNotebook: Record<string, number>; notebooks: Record<string, unknown>[] };
    process.env.MASSIVE_CACHED_ONLY = "1";
    const data = ensureData(settings, (l) => console.log(`reproduce: ${l}`));
    let report: string;
    try {
      report = await buildReport(settings, data, prov.notebooks.map((p) => ({ ...p, wallSeconds: prov.wallSecondsPerNotebook[String(p.notebook)] })));
    } catch (e) {
      fail(`--report-only: ${(e as Error).message}; run \`npm run reproduce -- --profile ${profile}\` to train what is missing`);
    }
    writeFileSync(join(settings.figuresDir, "REPORT.md"), report);
    console.log(`reproduce: rewrote ${join(settings.figuresDir, "REPORT.md")} from the cached runs`);
    return;
  }
  // mini (the committed reproduction) executes in place; other profiles into work/<profile>/notebooks.
  const outDir = values["out-dir"] ? String(values["out-dir"]) : profile === "mini" ? "inplace" : join(settings.workDir, "notebooks");
  if (outDir !== "inplace") mkdirSync(outDir, { recursive: true });
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
      await runNotebook(nb, outDir, env, progressFile, `reproduce:   [${nb}]`);
    } catch (e) {
      fail((e as Error).message);
    }
    times[nb] = Math.round((Date.now() - t0) / 1000);
    console.log(`reproduce: [${i + 1}/${list.length}] ${nb} done in ${formatDuration(times[nb])}`);
  }
  const provenance = list.map((nb) => {
    const f = join(notebookFiguresDir(settings, nb), `${nb}-provenance.json`);
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

main().catch((e) => fail(process.env.MASSIVE_DEBUG ? ((e as Error).stack ?? String(e)) : `${(e as Error).message} (MASSIVE_DEBUG=1 shows the stack)`));
