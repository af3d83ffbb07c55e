// Source of notebooks/04-figure3-diverse-memory.ipynb (`npm run notebooks` writes it; `tsc` type-checks this file).

// %% [markdown]
// # Figure 3: what each memory keeps
//
// The paper (Figure 3): the memory's contents at the end of D5 and D7, each stored case as a point:
// x = the site it came from, y = its stored uncertainty (BCE). In the paper LM holds only the latest cases,
// DM keeps older sites, and SM keeps older and harder (more uncertain) cases. Whether our runs show the
// same is said at the end, from the numbers. The runs are Table 2's online runs, read from the profile's
// results folder (this notebook never trains); the figures show the first seed, the table averages over seeds.

// %%
// Parameters: the profile comes from MASSIVE_PROFILE (default "mini"); seeds from the profile's settings.
import * as massive from "massive";
const { settings, out } = await massive.openNotebook("04-figure3-diverse-memory");

// %%
const results = massive.notebookResults(settings, "04-figure3-diverse-memory");
console.log(massive.resultsLine(settings, results));
for (const site of settings.snapshotSites) {
  await out.figure(massive.memoryScatterFigure(massive.memoryPoints(results, site, settings.seeds[0]), `Memory contents at the end of ${site}`), `-${site}`);
}

// %%
const rows = settings.snapshotSites.flatMap((site) => massive.memorySummaryRows(results, site));
out.table(rows, "", "Memory at the end of each site: share of cases from earlier sites, mean stored entropy (mean ± sd over seeds)");
out.json(settings.snapshotSites.map((site) => ({ site, points: massive.memoryPoints(results, site, settings.seeds[0]) })));

// %%
// What this shows: generated from the runs by the code that writes REPORT.md.
out.markdown(massive.whatThisShows(settings, "04-figure3-diverse-memory"));
void out.finish();
