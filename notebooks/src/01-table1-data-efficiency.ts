// Source of notebooks/01-table1-data-efficiency.ipynb (`npm run notebooks` writes it; `tsc` type-checks this file).

// %% [markdown]
// # Table 1: data efficiency on a single site
//
// The paper (Table 1): on one site, online training with a linear memory (LM) and S = 100 replays per case
// reaches about the Average Dice of 100 epochs over the stored data set, whatever the memory size
// (64 / 128 / 256). Here: the synthetic single-site set, LM at three memory sizes scaled like the paper's
// (1 : 2 : 4) against the repeated-epochs baseline with E = S, mean ± sd over the profile's seeds. The runs
// are trained by `npm run reproduce` and stored one small JSON each in the profile's results folder
// (results/mini for the committed reproduction); this notebook only reads them, and stops with the names
// of the missing runs and the command that trains them when some are not there.

// %%
// Parameters: the profile comes from MASSIVE_PROFILE (default "mini"); seeds from the profile's settings.
import * as massive from "massive";
const { settings, out } = await massive.openNotebook("01-table1-data-efficiency");

// %%
const results = massive.notebookResults(settings, "01-table1-data-efficiency");
console.log(massive.resultsLine(settings, results));
const rows = massive.table1Rows(settings, results);
out.table(rows, "", "Table 1: Average Dice on the single-site set (ours: mean ± sd over seeds)");

// %%
await out.figure(
  massive.comparisonBarFigure(
    rows.map((r) => String(r.method)),
    rows.map((r) => ({ mean: Number(r["ours mean"] ?? 0), sd: Number(r["ours sd"] ?? 0) })),
    rows.map((r) => r["Average Dice (paper)"] as number),
    "Table 1: Average Dice, single site",
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
out.markdown(massive.whatThisShows(settings, "01-table1-data-efficiency"));
void out.finish();
