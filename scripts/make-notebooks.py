"""Writes the notebooks' sources (unexecuted). The executed copies in notebooks/ come from `npm run reproduce`.

Kept as a script so the cells live in one readable place; run: python3 scripts/make-notebooks.py
"""
import json
import pathlib

HERE = pathlib.Path(__file__).resolve().parent.parent / "notebooks"


def md(text):
    return {"cell_type": "markdown", "metadata": {}, "source": text.strip("\n")}


def code(text):
    return {"cell_type": "code", "metadata": {}, "execution_count": None, "outputs": [], "source": text.strip("\n")}


PARAMS = """
// Parameters: the profile comes from MASSIVE_PROFILE (default "mini"); seeds from the profile's settings.
import * as massive from "massive";
const profile = massive.notebookProfile();
const settings = massive.experimentSettings(profile);
const out = new massive.NotebookOutputs(settings, "{name}");
await massive.initBackend();
console.log(`profile ${{profile}}, seeds ${{settings.seeds.join(", ")}}, figures -> ${{settings.figuresDir}}`);
"""


def notebook(name, cells):
    nb = {
        "cells": cells,
        "metadata": {
            "kernelspec": {"display_name": "TypeScript", "language": "typescript", "name": "tslab"},
            "language_info": {"codemirror_mode": {"mode": "typescript", "name": "javascript", "typescript": True},
                              "file_extension": ".ts", "mimetype": "text/typescript", "name": "typescript", "version": "3.7.2"},
        },
        "nbformat": 4,
        "nbformat_minor": 5,
    }
    for i, c in enumerate(nb["cells"]):
        c["id"] = f"{name[:2]}-{i:02d}"
    (HERE / f"{name}.ipynb").write_text(json.dumps(nb, indent=1) + "\n")


notebook("00-tutorial", [
    md("""
# Tutorial: online training with a replay memory, step by step

This notebook walks through the whole kit on small data: a real CT, the synthetic stream of 16 sites,
the three replay memories filling and evicting, training, and evaluation. Every step calls the shared
library (`src/`, imported as `massive`). It always uses the tiny `smoke` data for the memory demo, so it
runs in a few minutes on a laptop.
"""),
    code(PARAMS.format(name="00-tutorial")),
    md("""
## 1. A real CT

`assets/totalsegmentator-example` holds one real abdominal CT (3 mm, int16 HU) and its TotalSegmentator
label map. `readNifti` applies the header's scaling and affine; the TotalSegmentator ids are mapped to the
Universal Model's 32 classes.
"""),
    code("""
const ct = massive.readNifti(massive.assetPath("totalsegmentator-example", "example_ct_sm.nii.gz"));
const seg = massive.readLabelNifti(massive.assetPath("totalsegmentator-example", "example_seg.nii.gz"));
const classes = massive.mapLabels(seg.data, "totalseg", "totalseg", seg.file);
console.log(`shape ${ct.shape.join("x")}, spacing ${ct.spacing.map((s) => s.toFixed(1)).join("x")} mm, orientation ${massive.axisCodes(ct.affine)}`);
const z = 15;
await out.figure(massive.sliceFigure(massive.axialSliceRows(ct.data, ct.shape, z), massive.axialSliceRows(classes, ct.shape, z),
  `Real CT, axial slice ${z}, labels as the 32 classes`), "-ct-slice");
"""),
    md("""
## 2. The stream

The paper trains on 16 public datasets arriving one after another (D1 BTCV ... D16 AbdomenCT-12organ),
each annotating only some organs (partial labels). Here they are synthetic phantoms built from the real CT
above: each site has its own scanner look, contrast phase and label template. `ensureData` generates and
prepares them once (under `work/`).
"""),
    code("""
const smoke = massive.experimentSettings("smoke");
const data = massive.ensureData(smoke);
const manifest = massive.readManifest(data.stream);
const perSite = massive.SITES.map((s) => {
  const cs = manifest.cases.filter((c) => c.site === s.id);
  return { site: s.id, dataset: s.dataset, template: s.template, train: cs.filter((c) => c.split === "train").length,
    test: cs.filter((c) => c.split === "test").length, classes: massive.templateClasses(s.template).join(" ") };
});
out.table(perSite, "-stream", "The smoke stream: cases per site and the classes each site annotates");
"""),
    code("""
// One prepared case per site for three sites: different looks, different annotated organs.
for (const site of ["D1", "D5", "D12"]) {
  const c = manifest.cases.find((x) => x.site === site && x.split === "train")!;
  const img = massive.readNifti(`${data.stream}/${c.image}`);
  const lab = massive.readLabelNifti(`${data.stream}/${c.label}`);
  const zz = Math.floor(img.shape[2] / 2);
  await out.figure(massive.sliceFigure(massive.axialSliceRows(img.data, img.shape, zz), massive.axialSliceRows(lab.data, img.shape, zz),
    `${site} (${c.template}): prepared case, intensities in [0, 1]`, [0, 1]), `-site-${site}`);
}
"""),
    md("""
## 3. The memories

Cases arrive one at a time. A memory of size N holds the cases available for replay; after each arrival
it replays S random draws from memory. **LM** forgets the oldest case; **DM** removes the most redundant
seen case (max-coverage over the model's pooled features); **SM** first protects the most uncertain
cases (highest BCE) and then acts like DM. Below, a tiny run of each: every dot is a stored case (y = its
position in the stream, colour = its site) at each training step.
"""),
    code("""
const frames: Record<string, massive.MemoryFrame[]> = {};
for (const strategy of ["lm", "dm", "sm"] as const) {
  frames[strategy] = [];
  const cfg = massive.defaultConfig("smoke", strategy, { memorySize: 6, samplingRate: 2, seed: 1 });
  const r = await massive.train({ config: cfg, data: data.stream, progress: false, log: () => {},
    events: { onStep: (e) => void frames[strategy].push({ step: e.it, items: e.memory ?? [] }) } });
  const m = r.memory!;
  console.log(`${strategy.toUpperCase()}: ${r.state.it} steps; final memory holds sites ${m.items.map((x) => x.site).join(", ")}`);
  r.dispose();
  await out.figure(massive.memoryTimelineFigure(frames[strategy], `${strategy.toUpperCase()} memory contents per step (N = 6, S = 2)`), `-memory-${strategy}`);
}
"""),
    md("""
## 4. Train and evaluate

A short SM run on the smoke stream (S = 4, learning rate 1e-3 to see something in a few minutes), then sliding-window evaluation on the test cases (Dice per class for
the organs each case's site annotates). With this little training the Dice values are low: this shows
the mechanics, the other notebooks show the comparisons.
"""),
    code("""
const cfg = massive.defaultConfig("smoke", "sm", { seed: 1, samplingRate: 4, lr: 1e-3 });
const run = await massive.train({ config: cfg, data: data.stream, progress: false, log: () => {} });
const store = new massive.CaseStore(data.stream, cfg.roi);
const ev = await massive.evaluateSplit(run.model, store, cfg.roi, { split: "test", progress: false });
run.dispose();
out.table(Object.entries(ev.summary.perClass).map(([id, v]) => ({ class: massive.className(Number(id)), dice: v.mean, cases: v.cases })), "-dice", "Dice per class after a short SM run");
console.log(`Organ ${ev.summary.organAverage?.toFixed(4)}, Tumor ${ev.summary.tumorAverage?.toFixed(4)}, Average ${ev.summary.average?.toFixed(4)}`);
"""),
    code("""
const prov = out.finish();
console.log(JSON.stringify(prov, null, 1));
"""),
])

notebook("01-table1-data-efficiency", [
    md("""
# Table 1: data efficiency on a single site

The paper (Table 1): on one site, online training with a linear memory (LM) and S = 100 replays per case
reaches about the Average Dice of 100 epochs over the stored data set, whatever the memory size
(64 / 128 / 256). Here: the synthetic single-site set, LM at three memory sizes scaled like the paper's
(1 : 2 : 4) against the repeated-epochs baseline with E = S, mean ± sd over the profile's seeds.
"""),
    code(PARAMS.format(name="01-table1-data-efficiency")),
    code("""
const data = massive.ensureData(settings);
const results = await massive.runTable1(settings, data);
const rows = massive.table1Rows(settings, results);
out.table(rows, "", "Table 1: Average Dice on the single-site set (ours: mean ± sd over seeds)");
"""),
    code("""
await out.figure(massive.comparisonBarFigure(rows.map((r) => String(r.method)),
  rows.map((r) => ({ mean: Number(r["ours mean"] ?? 0), sd: Number(r["ours sd"] ?? 0) })),
  rows.map((r) => r["Average Dice (paper)"] as number), "Table 1: Average Dice, single site", "Average Dice"));
out.json(results.map((r) => ({ method: r.method, runs: r.runs.map((x) => ({ key: x.key, seed: x.spec.seed, final: x.final, iterations: x.iterations, trainSeconds: x.trainSeconds })) })));
console.log(JSON.stringify(out.finish(), null, 1));
"""),
])

notebook("02-table2-dynamic-adaptation", [
    md("""
# Table 2: dynamic adaptation on the 16-site stream

The paper (Table 2, N = 128, S = 100): on the sequential stream of 16 sites with partial labels, the
dynamic memory (DM) beats the linear one (LM), the selective memory (SM) beats DM and matches or beats
100 epochs of repeated training, and protecting the top 25% most uncertain cases works best. Here: the
synthetic stream, the same strategies with the profile's N and S, mean ± sd over seeds; Tumor average
over classes 26-32, Organ over 1-25, Average over all classes present.
"""),
    code(PARAMS.format(name="02-table2-dynamic-adaptation")),
    code("""
const data = massive.ensureData(settings);
const results = await massive.runTable2(settings, data);
const rows = massive.table2Rows(results);
out.table(rows, "", "Table 2: Dice on the 16-site stream (ours: mean ± sd over seeds)");
"""),
    code("""
await out.figure(massive.comparisonBarFigure(rows.map((r) => String(r.method)),
  rows.map((r) => ({ mean: Number(r["average mean"] ?? 0), sd: Number(r["average sd"] ?? 0) })),
  rows.map((r) => r["Average (paper)"] as number), "Table 2: Average Dice on the stream", "Average Dice"));
out.json(results.map((r) => ({ method: r.method, runs: r.runs.map((x) => ({ key: x.key, seed: x.spec.seed, final: x.final, iterations: x.iterations, trainSeconds: x.trainSeconds })) })));
console.log(JSON.stringify(out.finish(), null, 1));
"""),
])

notebook("03-figure2-forgetting", [
    md("""
# Figure 2: forgetting

The paper (Figure 2): after finishing site D_k, how much Dice on D_k's test cases is lost as training
moves on to later sites, for k = D8, D12, D13: the relative Dice drop (Dice after D_j − Dice after D_k) /
Dice after D_k. LM forgets most. The runs are Table 2's online runs (cached: running notebook 02 first
makes this one fast).
"""),
    code(PARAMS.format(name="03-figure2-forgetting")),
    code("""
const data = massive.ensureData(settings);
const results = await massive.runTable2(settings, data, ["LM", "DM", "SM top 25%"]);
const panels = massive.forgettingPanels(settings, results);
await out.figure(massive.forgettingFigure(panels));
"""),
    code("""
// The mean relative drop over all later sites, per strategy and evaluated site.
const rows = panels.flatMap((p) => p.series.map((s) => {
  const later = s.mean.slice(1).filter((v) => Number.isFinite(v));
  return { "evaluated site": p.site, strategy: s.strategy, "later sites": later.length,
    "mean relative drop": later.length ? later.reduce((a, b) => a + b, 0) / later.length : null,
    "drop after D16": s.mean[s.mean.length - 1] ?? null };
}));
out.table(rows, "", "Relative Dice drop (negative = forgotten)");
out.json(panels);
console.log(JSON.stringify(out.finish(), null, 1));
"""),
])

notebook("04-figure3-diverse-memory", [
    md("""
# Figure 3: what each memory keeps

The paper (Figure 3): the memory's contents at the end of D5 and D7, each stored case as a point:
x = the site it came from, y = its stored uncertainty (BCE). LM holds only the latest cases; DM keeps
older sites; SM keeps older and harder (more uncertain) cases. The runs are Table 2's online runs (seed
of the first run shown; the table averages over seeds).
"""),
    code(PARAMS.format(name="04-figure3-diverse-memory")),
    code("""
const data = massive.ensureData(settings);
const results = await massive.runTable2(settings, data, ["LM", "DM", "SM top 25%"]);
for (const site of settings.snapshotSites) {
  await out.figure(massive.memoryScatterFigure(massive.memoryPoints(results, site, settings.seeds[0]),
    `Memory contents at the end of ${site}`), `-${site}`);
}
"""),
    code("""
const rows = settings.snapshotSites.flatMap((site) => massive.memorySummaryRows(results, site));
out.table(rows, "", "Memory at the end of each site: share of cases from earlier sites, mean stored entropy (mean ± sd over seeds)");
out.json(settings.snapshotSites.map((site) => ({ site, points: massive.memoryPoints(results, site, settings.seeds[0]) })));
console.log(JSON.stringify(out.finish(), null, 1));
"""),
])
print("notebooks written to", HERE)
