import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync, readdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import { NOTEBOOKS } from "../scripts/jupyter.js";
import { tempDir } from "./helpers.js";

/**
 * Every notebook, end to end on the smoke profile, on the tslab kernel through Jupyter's nbconvert
 * (nbclient), exactly as `npm run reproduce -- --profile smoke` does; then their outputs are checked.
 * Needs Debian's jupyter-nbconvert, python3-nbclient, python3-jupyter-client, python3-ipykernel and
 * chromium (.ci/run installs them).
 */
interface Output {
  output_type: string;
  ename?: string;
  evalue?: string;
  data?: Record<string, unknown>;
}

test("all notebooks run headless on the smoke profile and write their outputs", { timeout: 40 * 60 * 1000 }, () => {
  const figures = tempDir("massive-figures-");
  const work = tempDir("massive-work-");
  const executed = tempDir("massive-notebooks-");
  const r = spawnSync(process.execPath, ["dist/scripts/reproduce.js", "--profile", "smoke", "--out-dir", executed], {
    encoding: "utf8",
    env: { ...process.env, MASSIVE_FIGURES: figures, MASSIVE_WORK: work },
  });
  assert.equal(r.status, 0, `reproduce failed:\n${r.stdout.slice(-3000)}\n${r.stderr.slice(-3000)}`);
  assert.match(r.stdout, /\[5\/5\] 04-figure3-diverse-memory done/);
  const files = readdirSync(figures);
  for (const nb of NOTEBOOKS) {
    const doc = JSON.parse(readFileSync(join(executed, `${nb}.ipynb`), "utf8")) as { cells: { cell_type: string; outputs?: Output[] }[] };
    const outputs = doc.cells.flatMap((c) => c.outputs ?? []);
    const errors = outputs.filter((o) => o.output_type === "error");
    assert.deepEqual(errors.map((e) => `${e.ename}: ${e.evalue}`), [], `${nb} has error outputs`);
    // Each figure output carries the Plotly bundle, HTML with a static image, and a PNG.
    const figs = outputs.filter((o) => o.data && "application/vnd.plotly.v1+json" in o.data);
    assert.ok(figs.length >= 1, `${nb}: no figure output`);
    for (const f of figs) assert.ok("image/png" in f.data! && "text/html" in f.data!, `${nb}: figure without PNG/HTML fallback`);
    assert.ok(files.includes(`${nb}-provenance.json`), `${nb}: provenance`);
    for (const ext of ["png", "svg", "html", "json"]) assert.ok(files.some((f) => f.startsWith(nb) && f.endsWith(`.${ext}`)), `${nb}: no .${ext}`);
    assert.ok(files.some((f) => f.startsWith(nb) && f.endsWith(".csv")), `${nb}: no table csv`);
  }
  for (const f of ["PROVENANCE.json", "REPORT.md", "plotly.min.js"]) assert.ok(existsSync(join(figures, f)), f);
  // PNGs are real images.
  const png = readFileSync(join(figures, "03-figure2-forgetting.png"));
  assert.equal(png.subarray(1, 4).toString(), "PNG");
  // Every strategy is present, and Dice values are in [0, 1].
  const t1 = readFileSync(join(figures, "01-table1-data-efficiency.csv"), "utf8");
  for (const m of ["LM N=1", "LM N=2", "LM N=4", "Repeated"]) assert.ok(t1.includes(m), `Table 1 lacks ${m}`);
  const t2 = readFileSync(join(figures, "02-table2-dynamic-adaptation.csv"), "utf8");
  for (const m of ["LM", "DM", "SM top 12.5%", "SM top 25%", "SM top 50%", "Repeated"]) assert.ok(t2.includes(m), `Table 2 lacks ${m}`);
  for (const name of ["01-table1-data-efficiency-results.json", "02-table2-dynamic-adaptation-results.json"]) {
    const res = JSON.parse(readFileSync(join(figures, name), "utf8")) as { method: string; runs: { final: { perClass: Record<string, { mean: number }>; average: number | null } }[] }[];
    for (const m of res)
      for (const run of m.runs) {
        const values = [...Object.values(run.final.perClass).map((v) => v.mean), run.final.average ?? 0];
        assert.ok(values.length > 1, `${m.method}: no Dice values`);
        for (const v of values) assert.ok(v >= 0 && v <= 1, `${m.method}: Dice ${v}`);
      }
  }
  const fig2 = JSON.parse(readFileSync(join(figures, "03-figure2-forgetting-results.json"), "utf8")) as { site: string; series: { strategy: string }[] }[];
  assert.deepEqual(fig2.map((p) => p.site), ["D8", "D12", "D13"]);
  for (const p of fig2) assert.deepEqual(p.series.map((s) => s.strategy), ["LM", "DM", "SM"]);
  const fig3 = JSON.parse(readFileSync(join(figures, "04-figure3-diverse-memory-results.json"), "utf8")) as { site: string; points: { strategy: string; entropy: number }[] }[];
  assert.deepEqual(fig3.map((x) => x.site), ["D5", "D7"]);
  for (const x of fig3) assert.deepEqual([...new Set(x.points.map((p) => p.strategy))].sort(), ["DM", "LM", "SM"]);
  // --report-only rewrites REPORT.md from the cached runs, and refuses to train what is not cached.
  rmSync(join(figures, "REPORT.md"));
  const again = spawnSync(process.execPath, ["dist/scripts/reproduce.js", "--profile", "smoke", "--report-only"], {
    encoding: "utf8",
    env: { ...process.env, MASSIVE_FIGURES: figures, MASSIVE_WORK: work },
  });
  assert.equal(again.status, 0, again.stderr.slice(-2000));
  assert.match(readFileSync(join(figures, "REPORT.md"), "utf8"), /## What the network learned/);
  const empty = spawnSync(process.execPath, ["dist/scripts/reproduce.js", "--profile", "smoke", "--report-only"], {
    encoding: "utf8",
    env: { ...process.env, MASSIVE_FIGURES: figures, MASSIVE_WORK: tempDir("massive-work-empty-") },
  });
  assert.notEqual(empty.status, 0);
  assert.match(empty.stderr + empty.stdout, /is not in .*MASSIVE_CACHED_ONLY=1/);
});

test("npm run reproduce refuses an unknown notebook selection", () => {
  const r = spawnSync(process.execPath, ["dist/scripts/reproduce.js", "--profile", "smoke", "--only", "99"], { encoding: "utf8" });
  assert.notEqual(r.status, 0);
  assert.match(r.stderr, /matches no notebook/);
});
