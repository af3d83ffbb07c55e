import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync, readdirSync, rmSync, symlinkSync } from "node:fs";
import { join, resolve } from "node:path";
import { NOTEBOOKS } from "../scripts/jupyter.js";
import { chromiumAvailable } from "../src/report/export.js";
import { tempDir } from "./helpers.js";

/**
 * Every notebook, end to end on the smoke profile, on the tslab kernel through the kit's own Jupyter
 * client, exactly as `npm run reproduce -- --profile smoke` does, with no Python on PATH (only node and
 * git); then their outputs are checked. PNG/SVG are checked when Chromium is installed.
 */
interface Output {
  output_type: string;
  name?: string;
  text?: string[];
  ename?: string;
  evalue?: string;
  data?: Record<string, unknown>;
}

/** A PATH with node and git only: no python, no jupyter. */
function pathWithoutPython(): string {
  const bin = tempDir("massive-bin-");
  symlinkSync(process.execPath, join(bin, "node"));
  for (const git of ["/usr/bin/git", "/usr/local/bin/git"]) if (existsSync(git)) symlinkSync(git, join(bin, "git"));
  return bin;
}

test("all notebooks run headless on the smoke profile, with no Python on PATH, and write their outputs", { timeout: 40 * 60 * 1000 }, () => {
  const figures = tempDir("massive-figures-");
  const work = tempDir("massive-work-");
  const executed = tempDir("massive-notebooks-");
  const PATH = pathWithoutPython();
  const env: NodeJS.ProcessEnv = { ...process.env, PATH, MASSIVE_FIGURES: figures, MASSIVE_WORK: work };
  delete env.PYTHON;
  assert.notEqual(spawnSync("/bin/sh", ["-c", "command -v python3 || command -v python || command -v jupyter"], { env }).status, 0, "python still on PATH");
  const browser = chromiumAvailable();
  const r = spawnSync(process.execPath, ["dist/scripts/reproduce.js", "--profile", "smoke", "--out-dir", executed], { encoding: "utf8", env });
  assert.equal(r.status, 0, `reproduce failed:\n${r.stdout.slice(-3000)}\n${r.stderr.slice(-3000)}`);
  assert.match(r.stdout, /\[5\/5\] 04-figure3-diverse-memory done/);
  // The runs are trained before the notebooks, in parallel jobs; the notebooks only read them.
  assert.match(r.stdout, /0 of 10 runs already in .*; training 10 with \d+ parallel job/);
  assert.match(r.stdout, /run 10\/10 \S+: done, \d+ steps/);
  const kit = resolve(".");
  for (const nb of NOTEBOOKS) {
    const doc = JSON.parse(readFileSync(join(executed, `${nb}.ipynb`), "utf8")) as {
      cells: { cell_type: string; execution_count?: number | null; outputs?: Output[] }[];
    };
    const code = doc.cells.filter((c) => c.cell_type === "code");
    assert.deepEqual(
      code.map((c) => c.execution_count),
      code.map((_, i) => i + 1),
      `${nb}: execution counts`,
    );
    const outputs = code.flatMap((c) => c.outputs ?? []);
    const errors = outputs.filter((o) => o.output_type === "error");
    assert.deepEqual(
      errors.map((e) => `${e.ename}: ${e.evalue}`),
      [],
      `${nb} has error outputs`,
    );
    // Each figure output carries the Plotly bundle and HTML, and a PNG when Chromium is there.
    const figs = outputs.filter((o) => o.data && "application/vnd.plotly.v1+json" in o.data);
    assert.ok(figs.length >= 1, `${nb}: no figure output`);
    for (const f of figs) assert.ok("text/html" in f.data! && (!browser || "image/png" in f.data!), `${nb}: figure without PNG/HTML fallback`);
    // Readable: no stderr in the outputs (progress is one updating line per run), no machine paths,
    // and a closing "what this shows" cell.
    const stderr = outputs.filter((o) => o.output_type === "stream" && o.name === "stderr").map((o) => (o.text ?? []).join(""));
    assert.deepEqual(stderr, [], `${nb}: stderr in the outputs`);
    assert.ok(!JSON.stringify(outputs).includes(kit + "/"), `${nb}: an absolute path of this machine in the outputs`);
    if (nb !== "00-tutorial") assert.match(JSON.stringify(outputs), /runs \(\d+ methods x 1 seed\) read from /, `${nb}: says where its runs come from`);
    const last = code[code.length - 1].outputs ?? [];
    assert.ok(
      last.some((o) => o.data && "text/markdown" in o.data && /What this shows/.test([o.data["text/markdown"]].flat().join(""))),
      `${nb}: no closing "what this shows"`,
    );
    const files = readdirSync(join(figures, nb));
    assert.ok(files.includes(`${nb}-provenance.json`), `${nb}: provenance`);
    for (const ext of browser ? ["png", "svg", "html", "json"] : ["html", "json"])
      assert.ok(
        files.some((f) => f.endsWith(`.${ext}`)),
        `${nb}: no .${ext}`,
      );
    assert.ok(
      files.some((f) => f.endsWith(".csv")),
      `${nb}: no table csv`,
    );
  }
  for (const f of ["PROVENANCE.json", "REPORT.md", "plotly.min.js"]) assert.ok(existsSync(join(figures, f)), f);
  // REPORT.md links the tables and figures it discusses.
  const report = readFileSync(join(figures, "REPORT.md"), "utf8");
  for (const nb of NOTEBOOKS.slice(1)) assert.match(report, new RegExp(`\\]\\(${nb}/${nb}[^)]*\\.(csv|png|html)\\)`), `REPORT.md links ${nb}`);
  // PNGs are real images.
  if (browser) {
    const png = readFileSync(join(figures, "03-figure2-forgetting", "03-figure2-forgetting-D8.png"));
    assert.equal(png.subarray(1, 4).toString(), "PNG");
  }
  // Every strategy is present, and Dice values are in [0, 1].
  const at = (nb: string, f: string) => join(figures, nb, f);
  const t1 = readFileSync(at("01-table1-data-efficiency", "01-table1-data-efficiency.csv"), "utf8");
  for (const m of ["LM N=1", "LM N=2", "LM N=4", "Repeated"]) assert.ok(t1.includes(m), `Table 1 lacks ${m}`);
  const t2 = readFileSync(at("02-table2-dynamic-adaptation", "02-table2-dynamic-adaptation.csv"), "utf8");
  for (const m of ["LM", "DM", "SM top 12.5%", "SM top 25%", "SM top 50%", "Repeated"]) assert.ok(t2.includes(m), `Table 2 lacks ${m}`);
  for (const name of ["01-table1-data-efficiency-results.json", "02-table2-dynamic-adaptation-results.json"]) {
    const res = JSON.parse(readFileSync(at(name.replace(/-results\.json$/, ""), name), "utf8")) as {
      method: string;
      runs: { final: { perClass: Record<string, { mean: number }>; average: number | null } }[];
    }[];
    for (const m of res)
      for (const run of m.runs) {
        const values = [...Object.values(run.final.perClass).map((v) => v.mean), run.final.average ?? 0];
        assert.ok(values.length > 1, `${m.method}: no Dice values`);
        for (const v of values) assert.ok(v >= 0 && v <= 1, `${m.method}: Dice ${v}`);
      }
  }
  const fig2 = JSON.parse(readFileSync(at("03-figure2-forgetting", "03-figure2-forgetting-results.json"), "utf8")) as {
    site: string;
    series: { strategy: string }[];
  }[];
  assert.deepEqual(
    fig2.map((p) => p.site),
    ["D8", "D12", "D13"],
  );
  for (const p of fig2)
    assert.deepEqual(
      p.series.map((s) => s.strategy),
      ["LM", "DM", "SM"],
    );
  const fig3 = JSON.parse(readFileSync(at("04-figure3-diverse-memory", "04-figure3-diverse-memory-results.json"), "utf8")) as {
    site: string;
    points: { strategy: string; entropy: number }[];
  }[];
  assert.deepEqual(
    fig3.map((x) => x.site),
    ["D5", "D7"],
  );
  for (const x of fig3) assert.deepEqual([...new Set(x.points.map((p) => p.strategy))].sort(), ["DM", "LM", "SM"]);
  // --report-only rewrites REPORT.md from the cached runs, and refuses to train what is not cached.
  rmSync(join(figures, "REPORT.md"));
  const again = spawnSync(process.execPath, ["dist/scripts/reproduce.js", "--profile", "smoke", "--report-only"], {
    encoding: "utf8",
    env: { ...process.env, MASSIVE_FIGURES: figures, MASSIVE_WORK: work },
  });
  assert.equal(again.status, 0, again.stderr.slice(-2000));
  assert.match(readFileSync(join(figures, "REPORT.md"), "utf8"), /## What the network learned/);
  assert.match(
    readFileSync(join(figures, "REPORT.md"), "utf8"),
    /\| 2a \| DM beats LM on the stream \| undecided \|.*from one seed: no interval/,
    "one seed: undecided",
  );
  const prov = JSON.parse(readFileSync(join(figures, "PROVENANCE.json"), "utf8")) as {
    runs: { key: string; trainSeconds: number; trainedNow: boolean }[];
    jobs: number;
    codeDirty: boolean;
  };
  assert.equal(prov.runs.length, 10);
  assert.ok(
    prov.runs.every((x) => x.trainedNow && x.trainSeconds > 0),
    "each run's training seconds",
  );
  assert.equal(typeof prov.codeDirty, "boolean");
  const empty = spawnSync(process.execPath, ["dist/scripts/reproduce.js", "--profile", "smoke", "--report-only"], {
    encoding: "utf8",
    env: { ...process.env, MASSIVE_FIGURES: figures, MASSIVE_WORK: tempDir("massive-work-empty-") },
  });
  assert.notEqual(empty.status, 0);
  assert.match(
    empty.stderr,
    /--report-only rebuilds REPORT.md from the stored results, and .* holds none of the 10 runs it needs: run `npm run reproduce -- --profile smoke` first/,
  );
  assert.doesNotMatch(empty.stderr, /\n\s+at /, "a message, not a stack trace");
});

test("npm run reproduce refuses an unknown notebook selection", () => {
  const r = spawnSync(process.execPath, ["dist/scripts/reproduce.js", "--profile", "smoke", "--only", "99"], { encoding: "utf8" });
  assert.notEqual(r.status, 0);
  assert.match(r.stderr, /matches no notebook/);
});
