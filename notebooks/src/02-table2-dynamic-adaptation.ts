// Source of notebooks/02-table2-dynamic-adaptation.ipynb (`npm run notebooks` writes it; `tsc` type-checks this file).

// %% [markdown]
// # Table 2: dynamic adaptation on the 16-site stream
//
// The paper (Table 2, N = 128, S = 100): on the sequential stream of 16 sites with partial labels, the
// dynamic memory (DM) beats the linear one (LM), the selective memory (SM) beats DM and matches or beats
// 100 epochs of repeated training, and protecting the top 25% most uncertain cases works best. Here: the
// synthetic stream, the same strategies with the profile's N and S, mean ± sd over seeds; Tumor average
// over classes 26-32, Organ over 1-25, Average over all classes present. The runs are read from the
// profile's results folder (trained by `npm run reproduce`; this notebook never trains).

// %%
// Parameters: the profile comes from MASSIVE_PROFILE (default "mini"); seeds from the profile's settings.
import * as massive from "massive";
const { settings, out } = await massive.openNotebook("02-table2-dynamic-adaptation");

// %%
const results = massive.notebookResults(settings, "02-table2-dynamic-adaptation");
console.log(massive.resultsLine(settings, results));
const rows = massive.table2Rows(results);
out.table(rows, "", "Table 2: Dice on the 16-site stream (ours: mean ± sd over seeds)");

// %%
await out.figure(
  massive.comparisonBarFigure(
    rows.map((r) => String(r.method)),
    rows.map((r) => ({ mean: Number(r["average mean"] ?? 0), sd: Number(r["average sd"] ?? 0) })),
    rows.map((r) => r["Average (paper)"] as number),
    "Table 2: Average Dice on the stream",
    "Average Dice",
  ),
);
out.json(
  results.map((r) => ({
    method: r.method,
    runs: r.runs.map((x) => ({ key: x.key, seed: x.spec.seed, final: x.final, iterations: x.iterations, trainSeconds: x.trainSeconds })),
  })),
);

// %%
// What this shows: generated from the runs by the code that writes REPORT.md.
out.markdown(massive.whatThisShows(settings, "02-table2-dynamic-adaptation"));
void out.finish();
