import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { SITES } from "../src/data/ontology.js";
import { readNotebook } from "../src/notebook/nbformat.js";
import { cellsMatch, notebookFromSource, parseNotebookSource } from "../src/notebook/sources.js";
import { forgettingFigure, memoryScatterFigure, memoryTimelineFigure, siteStyle, SITE_COLORS } from "../src/report/plots.js";
import { experimentSettings } from "../src/experiments/settings.js";
import { forgettingPanels } from "../src/experiments/forgetting.js";
import type { MethodResults } from "../src/experiments/results.js";
import type { RunResult } from "../src/experiments/runs.js";

test("the site palette has 16 distinct colours, a full legend, and the same style for a site in every figure", () => {
  assert.equal(SITES.length, 16);
  assert.equal(new Set(SITE_COLORS).size, 16);
  const styles = SITES.map((s) => siteStyle(s.id));
  assert.equal(new Set(styles.map((s) => `${s.color} ${s.symbol}`)).size, 16);
  // D14-D16 no longer look like D4-D6.
  for (const [a, b] of [
    ["D4", "D14"],
    ["D5", "D15"],
    ["D6", "D16"],
  ])
    assert.notEqual(siteStyle(a).color, siteStyle(b).color);
  // Only two sites stored, but all 16 are in the legend, in stream order, with their fixed colours.
  const fig = memoryTimelineFigure(
    [
      {
        step: 1,
        items: [
          { idx: 0, site: "D14" },
          { idx: 1, site: "D4" },
        ],
      },
    ],
    "t",
  );
  assert.deepEqual(
    fig.data.map((t) => String(t.name).split(" ")[0]),
    SITES.map((s) => s.id),
  );
  for (const t of fig.data) {
    const site = String(t.name).split(" ")[0];
    assert.equal((t.marker as { color: string }).color, siteStyle(site).color);
  }
  assert.equal((fig.layout.legend as { orientation: string }).orientation, "h", "legend below the plot, never cut off");
  // Figure 3 plots every site on its axis.
  const scatter = memoryScatterFigure([{ strategy: "LM", site: "D16", entropy: 0.1 }], "s");
  assert.equal((scatter.layout.xaxis as { ticktext: string[] }).ticktext.length, 16);
});

function fakeRun(diceOnD8: Record<string, number | null>): RunResult {
  return {
    siteEnds: SITES.map((s) => ({ site: s.id, it: 0, memory: [], dice: s.id in diceOnD8 ? { D8: diceOnD8[s.id] } : {} })),
  } as unknown as RunResult;
}

test("Figure 2: a 0/0 relative drop is a gap named in the figure, not 0 ('no forgetting')", () => {
  const s = { ...experimentSettings("smoke"), forgettingSites: ["D8"] };
  const later = SITES.slice(7).map((x) => x.id);
  const zero: MethodResults = { method: "LM", runs: [fakeRun(Object.fromEntries(later.map((j) => [j, 0])))] };
  const ok: MethodResults = { method: "DM", runs: [fakeRun(Object.fromEntries(later.map((j, i) => [j, 0.5 - i * 0.01])))] };
  const [panel] = forgettingPanels(s, [zero, ok]);
  const lm = panel.series.find((x) => x.strategy === "LM")!;
  assert.ok(
    lm.mean.every((v) => Number.isNaN(v)),
    "undefined, not 0",
  );
  assert.deepEqual(lm.undefinedAt, later);
  const dm = panel.series.find((x) => x.strategy === "DM")!;
  assert.equal(dm.mean[0], 0);
  assert.ok(dm.mean[1] < 0);
  assert.deepEqual(dm.undefinedAt, []);
  const fig = forgettingFigure(panel);
  assert.ok(
    (fig.data[0].y as (number | null)[]).every((v) => v === null),
    "gaps in the plot",
  );
  assert.match(String((fig.layout.title as { text: string }).text), /drop not defined.*LM everywhere/);
  assert.ok(Number(fig.layout.width) <= 700, "one panel fits a notebook's output area");
});

test("the committed notebooks' cells equal their TypeScript sources (npm run notebooks regenerates them)", () => {
  const dir = "notebooks";
  const sources = readdirSync(join(dir, "src")).filter((f) => f.endsWith(".ts"));
  assert.equal(sources.length, 5);
  for (const f of sources) {
    const name = f.replace(/\.ts$/, "");
    const diff = cellsMatch(readNotebook(join(dir, `${name}.ipynb`)), notebookFromSource(name, readFileSync(join(dir, "src", f), "utf8")));
    assert.ok(diff.same, `${name}.ipynb: ${diff.firstDifference}; run npm run notebooks`);
  }
});

test("notebook sources: percent cell markers, Markdown as // comments, the header skipped", () => {
  const cells = parseNotebookSource("// header\n\n// %% [markdown]\n// # Title\n//\n// text\n\n// %%\nconst a = 1;\n\n// %%\n// a comment\na + 1\n");
  assert.deepEqual(cells, [
    { kind: "markdown", text: "# Title\n\ntext" },
    { kind: "code", text: "const a = 1;" },
    { kind: "code", text: "// a comment\na + 1" },
  ]);
  assert.throws(() => parseNotebookSource("// %% [markdown]\nnot a comment\n"), /not a "\/\/ " comment/);
});
