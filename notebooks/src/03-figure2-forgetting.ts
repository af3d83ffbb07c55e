// Source of notebooks/03-figure2-forgetting.ipynb (`npm run notebooks` writes it; `tsc` type-checks this file).

// %% [markdown]
// # Figure 2: forgetting
//
// The paper (Figure 2): after finishing site D_k, how much Dice on D_k's test cases is lost as training
// moves on to later sites, for k = D8, D12, D13: the relative Dice drop (Dice after D_j − Dice after D_k) /
// Dice after D_k; the paper finds that LM forgets most. Where the Dice after D_k is 0 the drop is undefined:
// those points are gaps, not zeros, and are named below each figure. The runs are Table 2's online runs
// (one line per run below says whether it was read from the cache or trained).

// %%
// Parameters: the profile comes from MASSIVE_PROFILE (default "mini"); seeds from the profile's settings.
import * as massive from "massive";
const { settings, out } = await massive.openNotebook("03-figure2-forgetting");

// %%
const data = massive.ensureData(settings);
const results = await massive.runTable2(settings, data, ["LM", "DM", "SM top 25%"]);
const panels = massive.forgettingPanels(settings, results);
for (const p of panels) await out.figure(massive.forgettingFigure(p), `-${p.site}`);

// %%
// The mean relative drop over all later sites, per strategy and evaluated site (undefined drops left out).
const rows = panels.flatMap((p) => p.series.map((s) => {
  const later = s.mean.slice(1).filter((v) => Number.isFinite(v));
  return { "evaluated site": p.site, strategy: s.strategy, "later sites": later.length,
    "mean relative drop": later.length ? later.reduce((a, b) => a + b, 0) / later.length : null,
    "drop after D16": Number.isFinite(s.mean[s.mean.length - 1]) ? s.mean[s.mean.length - 1] : null,
    "undefined at": (s.undefinedAt ?? []).join(" ") };
}));
out.table(rows, "", "Relative Dice drop (negative = forgotten; undefined drops are left out)");
out.json(panels);

// %%
// What this shows: generated from the runs by the code that writes REPORT.md.
out.markdown(await massive.whatThisShows(settings, data, "03-figure2-forgetting"));
void out.finish();
