// Source of notebooks/00-tutorial.ipynb (`npm run notebooks` writes it; `tsc` type-checks this file).
// Cells: "// %% [markdown]" (each line "// "-prefixed) and "// %%" (code).

// %% [markdown]
// # Tutorial: online training with a replay memory, step by step
//
// This notebook walks through the whole kit on small data: a real CT, the synthetic stream of 16 sites,
// the three replay memories filling and evicting, training, and evaluation. Every step calls the shared
// library (`src/`, imported as `massive`). It always uses the tiny `smoke` data for the memory demo, so it
// runs in a few minutes on a laptop.

// %%
// Parameters: the profile comes from MASSIVE_PROFILE (default "mini"); seeds from the profile's settings.
import * as massive from "massive";
const { settings, out } = await massive.openNotebook("00-tutorial");

// %% [markdown]
// ## 1. A real CT
//
// `assets/totalsegmentator-example` holds one real abdominal CT (3 mm, int16 HU) and its TotalSegmentator
// label map. `readNifti` applies the header's scaling and affine; the TotalSegmentator ids are mapped to the
// Universal Model's 32 classes as post labels (one byte per voxel holding an organ and the tumour or cyst
// inside it; `displayClass` picks one class per voxel for the picture).

// %%
const ct = massive.readNifti(massive.assetPath("totalsegmentator-example", "example_ct_sm.nii.gz"));
const seg = massive.readLabelNifti(massive.assetPath("totalsegmentator-example", "example_seg.nii.gz"));
const classes = massive.mapLabels(seg.data, "totalseg", "totalseg", seg.file).map(massive.displayClass);
console.log(`shape ${ct.shape.join("x")}, spacing ${ct.spacing.map((s) => s.toFixed(1)).join("x")} mm, orientation ${massive.axisCodes(ct.affine)}`);
const z = 15;
await out.figure(
  massive.sliceFigure(
    massive.axialSliceRows(ct.data, ct.shape, z),
    massive.axialSliceRows(classes, ct.shape, z),
    `Real CT, axial slice ${z}, labels as the 32 classes`,
  ),
  "-ct-slice",
);

// %% [markdown]
// ## 2. The stream
//
// The paper trains on 16 public datasets arriving one after another (D1 BTCV ... D16 AbdomenCT-12organ),
// each annotating only some organs (partial labels). Here they are synthetic phantoms built from the real CT
// above: each site has its own scanner look, contrast phase and label template. `ensureData` generates and
// prepares them once (under `work/`).

// %%
const smoke = massive.experimentSettings("smoke");
const data = massive.ensureData(smoke);
const manifest = massive.readManifest(data.stream);
const perSite = massive.SITES.map((s) => {
  const cs = manifest.cases.filter((c) => c.site === s.id);
  return {
    site: s.id,
    dataset: s.dataset,
    template: s.template,
    train: cs.filter((c) => c.split === "train").length,
    test: cs.filter((c) => c.split === "test").length,
    classes: massive.templateClasses(s.template).join(" "),
  };
});
out.table(perSite, "-stream", "The smoke stream: cases per site and the classes each site annotates");

// %%
// One prepared case per site for three sites: different looks, different annotated organs.
for (const site of ["D1", "D5", "D12"]) {
  const c = manifest.cases.find((x) => x.site === site && x.split === "train")!;
  const img = massive.readNifti(`${data.stream}/${c.image}`);
  const lab = massive.readLabelNifti(`${data.stream}/${c.label}`);
  const zz = Math.floor(img.shape[2] / 2);
  await out.figure(
    massive.sliceFigure(
      massive.axialSliceRows(img.data, img.shape, zz),
      massive.axialSliceRows(lab.data.map(massive.displayClass), img.shape, zz),
      `${site} (${c.template}): prepared case, intensities in [0, 1]`,
      [0, 1],
    ),
    `-site-${site}`,
  );
}

// %% [markdown]
// ## 3. The memories
//
// Cases arrive one at a time. A memory of size N holds the cases available for replay; after each arrival
// it replays S random draws from memory. **LM** forgets the oldest case; **DM** removes the most redundant
// seen case (max-coverage over the model's pooled features); **SM** first protects the most uncertain
// cases (highest BCE) and then acts like DM. Below, a tiny run of each: every dot is a stored case (y = its
// position in the stream, colour and shape = its site, the same in every figure) at each training step.

// %%
const frames: Record<string, massive.MemoryFrame[]> = {};
const finalSites: Record<string, string[]> = {};
for (const strategy of ["lm", "dm", "sm"] as const) {
  frames[strategy] = [];
  const cfg = massive.defaultConfig("smoke", strategy, { memorySize: 6, samplingRate: 2, seed: 1 });
  const line = massive.liveLine(`${strategy.toUpperCase()}: starting`);
  let shown = 0;
  const r = await massive.train({
    config: cfg,
    data: data.stream,
    progress: false,
    log: () => {},
    events: {
      onStep: (e) => {
        frames[strategy].push({ step: e.it, items: e.memory ?? [] });
        if (Date.now() - shown > 1000 || e.it === e.budget) {
          shown = Date.now();
          line.update(
            `${strategy.toUpperCase()}: step ${e.it}/${e.budget}, loss ${e.loss.toFixed(3)}, memory holds ${(e.memory ?? []).map((x) => x.site).join(" ")}`,
          );
        }
      },
    },
  });
  finalSites[strategy] = r.memory!.items.map((x) => x.site);
  line.update(`${strategy.toUpperCase()}: ${r.state.it} steps; final memory holds sites ${finalSites[strategy].join(", ")}`);
  r.dispose();
  await out.figure(massive.memoryTimelineFigure(frames[strategy], `${strategy.toUpperCase()} memory contents per step (N = 6, S = 2)`), `-memory-${strategy}`);
}

// %% [markdown]
// ## 4. Train and evaluate
//
// A short SM run on the smoke stream (S = 4, learning rate 1e-3 to see something in a few minutes), then
// sliding-window evaluation on the test cases (Dice per class for the organs each case's site annotates).
// This shows the mechanics; the other notebooks show the comparisons.

// %%
const cfg = massive.defaultConfig("smoke", "sm", { seed: 1, samplingRate: 4, lr: 1e-3 });
const progress = massive.liveLine("SM: training");
const run = await massive.train({
  config: cfg,
  data: data.stream,
  progress: false,
  log: () => {},
  events: { onStep: (e) => void (e.it % 10 === 0 && progress.update(`SM: step ${e.it}/${e.budget}, loss ${e.loss.toFixed(3)}`)) },
});
progress.update(`SM: ${run.state.it} steps done; evaluating on the test cases`);
const store = new massive.CaseStore(data.stream, cfg.roi);
const ev = await massive.evaluateSplit(run.model, store, cfg.roi, { split: "test", progress: false });
run.dispose();
progress.update(`SM: ${run.state.it} steps, evaluated`);
out.table(
  Object.entries(ev.summary.perClass).map(([id, v]) => ({ class: massive.className(Number(id)), dice: v.mean, cases: v.cases })),
  "-dice",
  "Dice per class after a short SM run",
);
console.log(`Organ ${ev.summary.organAverage?.toFixed(4)}, Tumor ${ev.summary.tumorAverage?.toFixed(4)}, Average ${ev.summary.average?.toFixed(4)}`);

// %%
// What this shows: written from the numbers above, not fixed in advance.
const learned = Object.entries(ev.summary.perClass)
  .map(([id, v]) => ({ name: massive.className(Number(id)), dice: v.mean }))
  .sort((a, b) => b.dice - a.dice);
out.markdown(
  [
    "## What this shows",
    "",
    `- Memory (N = 6): at the end LM holds ${[...new Set(finalSites.lm)].join(", ")}; DM holds ${[...new Set(finalSites.dm)].join(", ")}; SM holds ${[...new Set(finalSites.sm)].join(", ")}.`,
    `  Distinct sites kept: LM ${new Set(finalSites.lm).size}, DM ${new Set(finalSites.dm).size}, SM ${new Set(finalSites.sm).size}` +
      (new Set(finalSites.lm).size <= Math.min(new Set(finalSites.dm).size, new Set(finalSites.sm).size)
        ? " (LM the fewest, as expected of a first-in-first-out memory)."
        : " (LM not the fewest here)."),
    `- The short SM run (${run.state.it} steps) reached an Average Dice of ${ev.summary.average?.toFixed(3) ?? "-"}; ` +
      `${learned.filter((c) => c.dice > 0.1).length} of ${learned.length} classes above 0.1` +
      (learned.length && learned[0].dice > 0
        ? ` (best: ${learned
            .slice(0, 3)
            .map((c) => `${c.name} ${c.dice.toFixed(3)}`)
            .join(", ")}).`
        : ": no class is segmented yet at this length."),
    `- Files: ${massive.displayPath(massive.notebookFiguresDir(settings, "00-tutorial"))}/`,
  ].join("\n"),
);
void out.finish();
