// Source of notebooks/03-figure2-forgetting.ipynb (`npm run notebooks` writes it; `tsc` type-checks this file).

// %% [markdown]
// # Figure 2: forgetting
//
// The paper (Figure 2): after finishing site D_k, how much Dice on D_k's test cases is lost as training
// moves on to later sites, for k = D8, D12, D13: the relative Dice drop (Dice after D_j − Dice after D_k) /
// Dice after D_k; the paper finds that LM forgets most. Where the Dice after D_k is 0 the drop is not
// defined (0/0): those points are gaps, not zeros ("no forgetting"), and are named below each figure. The
// runs are Table 2's online runs, read from the profile's results folder (this notebook never trains).

// %%
// Parameters: the profile comes from MASSIVE_PROFILE (default "mini"); seeds from the profile's settings.
import * as massive from "massive";
const { settings, out } = await massive.openNotebook("03-figure2-forgetting");

// %%
const results = massive.notebookResults(settings, "03-figure2-forgetting");
console.log(massive.resultsLine(settings, results));
const panels = massive.forgettingPanels(settings, results);
for (const p of panels) await out.figure(massive.forgettingFigure(p), `-${p.site}`);

// %%
// The mean relative drop over the later sites, per strategy and evaluated site (the numbers REPORT.md judges).
out.table(massive.forgettingRows(settings, results), "", "Relative Dice drop (negative = forgotten; not defined where the Dice after the site is 0)");
out.json(panels);

// %%
// What this shows: generated from the runs by the code that writes REPORT.md.
out.markdown(massive.whatThisShows(settings, "03-figure2-forgetting"));
void out.finish();
