/** `massive train` and `massive eval`. */
import { resolve } from "node:path";
import { initBackend, describeBackend } from "../backend.js";
import { evaluateSplit } from "../eval/evaluate.js";
import { formatDiceSummary } from "../report/dice-table.js";
import { PROFILES, profileByName, type ProfileName, type TrainDefaults } from "../profiles.js";
import { CaseStore } from "../data/case-store.js";
import { hasCheckpoint, loadCheckpoint } from "../train/checkpoint.js";
import { MEMORY_KINDS } from "../memory/policies/index.js";
import { STRATEGIES, defaultConfig, describeStrategies, type Strategy, type TrainConfig } from "../train/config.js";
import { metricsEvents, RunDir } from "../train/run-dir.js";
import { removeStaleTemps } from "../util/atomic.js";
import { createModel } from "../model/create.js";
import { train, type RunState } from "../train/trainer.js";
import { asUsage, outFolder, parseIntFlag, parseVec3, requireString, UsageError, type CommandSpec } from "./args.js";

/** A training default of every profile, for --help: "smoke 0.001, mini 0.002, paper 0.0001". */
function perProfile(pick: (t: TrainDefaults) => number): string {
  return Object.values(PROFILES)
    .map((p) => `${p.name} ${pick(p.train)}`)
    .join(", ");
}

function parseSites(v: unknown): string[] | undefined {
  return typeof v === "string" && v ? v.split(",").map((s) => s.trim()) : undefined;
}

export const trainCommand: CommandSpec = {
  name: "train",
  summary: `train online with a replay memory (${MEMORY_KINDS.join(", ")}) or with repeated epochs, writing a run folder`,
  usage: `massive train --strategy ${STRATEGIES.join("|")} --data <prepared dir> --out <run dir> [--profile smoke|mini|paper] [--memory N] [--sampling-rate S] [--top-k K] [--limit-num-seen-coeff C] [--epochs E] [--ranks R] [--seed N] [--sites D1,D2] [--lr X] [--warmup F] [--roi x,y,z] [--init <file.pt>] [--checkpoint-every N] [--resume] [--no-eval] [--no-postprocess]`,
  options: {
    strategy: { type: "string" },
    profile: { type: "string", default: "smoke" },
    data: { type: "string" },
    out: { type: "string" },
    memory: { type: "string" },
    "sampling-rate": { type: "string" },
    "top-k": { type: "string" },
    "limit-num-seen-coeff": { type: "string" },
    epochs: { type: "string" },
    ranks: { type: "string" },
    seed: { type: "string", default: "1" },
    sites: { type: "string" },
    "checkpoint-every": { type: "string" },
    lr: { type: "string" },
    warmup: { type: "string" },
    roi: { type: "string" },
    init: { type: "string" },
    resume: { type: "boolean", default: false },
    "no-eval": { type: "boolean", default: false },
    "no-postprocess": { type: "boolean", default: false },
  },
  help: {
    strategy: describeStrategies(),
    profile: "defaults for model widths, patch, N, S, epochs (smoke, mini, paper)",
    data: "prepared folder (from massive prep / npm run demo)",
    out: "run folder: config.json, metrics.jsonl, checkpoint/, final-eval.json",
    memory: `memory size N (online strategies; default: ${perProfile((t) => t.memorySize)})`,
    "sampling-rate": `replays per arriving case S (default: ${perProfile((t) => t.samplingRate)})`,
    "top-k": "SM: protect the top 1/K by entropy (8, 4, 2 = top 12.5, 25, 50 %)",
    "limit-num-seen-coeff": "DM/SM: drop items once seen C * S times (the reference's limit_num_seen_coeff; default off)",
    epochs: `repeated: number of epochs (default: ${perProfile((t) => t.epochs)})`,
    ranks: `online strategies: emulate R data-parallel GPUs (default: ${perProfile((t) => t.ranks)}; the paper ran 4 GPUs): each rank takes an interleaved 1/R of the stream into its own memory of floor(N / R) items, each step trains one batch (B = 1) per rank with the gradients averaged, the budget is counted per rank`,
    seed: "seed of the model, sampling and augmentation",
    sites: "train only on these sites' cases (e.g. S1 for the single-site set)",
    "checkpoint-every": "iterations between checkpoints",
    lr: `base learning rate (default: ${perProfile((t) => t.lr)})`,
    warmup: `fraction of the budget with a linear learning-rate warm-up (default: ${perProfile((t) => t.warmup)})`,
    roi: "patch size x,y,z (multiples of 8; default from the profile)",
    init: "start the backbone from a PyTorch checkpoint in the Models Genesis UNet3D naming (e.g. Genesis_Chest_CT.pt); logs which parameters were loaded and which were left at their initialisation",
    resume:
      "continue from the run folder's last checkpoint; refused, naming what differs, if a setting or the data changed (without a checkpoint: a fresh run, said so)",
    "no-eval": "skip the final evaluation on the test split",
    "no-postprocess": "final evaluation: score the raw thresholded output, without the reference's post-processing",
  },
  async run(v) {
    const strategy = requireString(v.strategy, "strategy", "train") as Strategy;
    if (!STRATEGIES.includes(strategy)) throw new UsageError(`massive train: --strategy must be one of ${STRATEGIES.join(", ")}, got "${strategy}"`);
    const profile = asUsage("train", () => profileByName(String(v.profile))).name as ProfileName;
    const data = resolve(requireString(v.data, "data", "train"));
    const out = outFolder(v.out, "train");
    const overrides: Partial<TrainConfig> = { seed: parseIntFlag(v.seed, "seed", "train", 1) };
    if (v.memory !== undefined) overrides.memorySize = parseIntFlag(v.memory, "memory", "train", 0);
    if (v["sampling-rate"] !== undefined) overrides.samplingRate = parseIntFlag(v["sampling-rate"], "sampling-rate", "train", 0);
    if (v["top-k"] !== undefined) overrides.topOneInK = parseIntFlag(v["top-k"], "top-k", "train", 0);
    if (v["limit-num-seen-coeff"] !== undefined) {
      const c = Number(v["limit-num-seen-coeff"]);
      if (!(c >= 0)) throw new UsageError(`massive train: --limit-num-seen-coeff must be a number >= 0 (0: off), got "${v["limit-num-seen-coeff"]}"`);
      overrides.limitNumSeenCoeff = c;
    }
    if (v.epochs !== undefined) overrides.epochs = parseIntFlag(v.epochs, "epochs", "train", 0);
    if (v.ranks !== undefined) overrides.ranks = parseIntFlag(v.ranks, "ranks", "train", 0);
    if (v["checkpoint-every"] !== undefined) overrides.checkpointEvery = parseIntFlag(v["checkpoint-every"], "checkpoint-every", "train", 0);
    if (v.lr !== undefined) {
      const lr = Number(v.lr);
      if (!(lr > 0)) throw new UsageError(`massive train: --lr must be a positive number, got "${v.lr}"`);
      overrides.lr = lr;
    }
    if (v.warmup !== undefined) {
      const w = Number(v.warmup);
      if (!(w >= 0 && w < 1)) throw new UsageError(`massive train: --warmup must be a fraction in [0, 1), got "${v.warmup}"`);
      overrides.warmup = w;
    }
    if (v.roi !== undefined) overrides.roi = parseVec3(String(v.roi), "roi", "train", true);
    let config: TrainConfig;
    try {
      config = defaultConfig(profile, strategy, overrides);
    } catch (e) {
      throw new UsageError(`massive train: ${(e as Error).message}`);
    }
    const sites = parseSites(v.sites);
    const init = typeof v.init === "string" ? resolve(v.init) : undefined;
    const run = new RunDir(out);
    for (const t of removeStaleTemps(out)) process.stderr.write(`train: removed ${t}, left in ${out} by a killed run\n`);
    const resume = Boolean(v.resume);
    if (!(resume && hasCheckpoint(out))) {
      if (hasCheckpoint(out)) throw new Error(`${out} already holds a run; pass --resume to continue it, or choose another --out`);
      run.writeInfo({ config, data, sites, ...(init ? { init } : {}), createdAt: new Date().toISOString() });
    }
    const store = new CaseStore(data, config.roi);
    if (!v["no-eval"] && store.list("test", sites).length === 0) {
      throw new Error(`${data}: no test cases${sites ? ` for sites ${sites.join(",")}` : ""} for the final evaluation; prepare a test list, or pass --no-eval`);
    }
    const backend = await initBackend();
    const result = await train({ config, data, store, runDir: out, resume, sites, init, events: metricsEvents(run) });
    try {
      if (!v["no-eval"]) {
        const ev = await evaluateSplit(result.model, result.store, config.roi, { split: "test", sites, postprocess: !v["no-postprocess"] });
        run.writeJson("final-eval.json", { backend: describeBackend(backend), iterations: result.state.it, postprocess: !v["no-postprocess"], ...ev });
        console.log(formatDiceSummary(ev.summary));
      }
      console.log(`train: ${strategy} finished ${result.state.it} iterations; run folder ${out}`);
    } finally {
      result.dispose();
    }
  },
};

export const evalCommand: CommandSpec = {
  name: "eval",
  summary: "evaluate a run's last checkpoint on the test split of a prepared folder (Dice per class, averages)",
  usage: "massive eval --run <run dir> --data <prepared dir> [--split test|train] [--sites D8,D12] [--out <file.json>] [--no-postprocess]",
  options: {
    run: { type: "string" },
    data: { type: "string" },
    split: { type: "string", default: "test" },
    sites: { type: "string" },
    out: { type: "string" },
    "no-postprocess": { type: "boolean", default: false },
  },
  help: {
    run: "run folder written by massive train",
    data: "prepared folder to evaluate on",
    split: "test (default) or train",
    sites: "only these sites",
    out: "write the results here (default <run>/eval.json)",
    "no-postprocess":
      "score the raw thresholded output, without the reference's post-processing (largest component, vein cut, lung split, tumours inside their organ)",
  },
  async run(v) {
    const runDir = resolve(requireString(v.run, "run", "eval"));
    const data = resolve(requireString(v.data, "data", "eval"));
    const split = String(v.split);
    if (split !== "test" && split !== "train") throw new UsageError(`massive eval: --split must be test or train, got "${split}"`);
    const run = RunDir.open(runDir);
    const info = run.readInfo();
    await initBackend();
    const model = createModel(info.config.model);
    try {
      const ck = loadCheckpoint<RunState>(runDir);
      for (const w of ck.warnings) process.stderr.write(`eval: warning: ${w}\n`);
      model.params.importArrays(
        ck.arrays.filter((a) => !a.name.includes(":")),
        ck.dir,
      );
      const store = new CaseStore(data, info.config.roi);
      const ev = await evaluateSplit(model, store, info.config.roi, { split, sites: parseSites(v.sites), postprocess: !v["no-postprocess"] });
      const outFile = typeof v.out === "string" ? resolve(v.out) : resolve(runDir, "eval.json");
      const { writeJsonAtomic } = await import("../util/atomic.js");
      writeJsonAtomic(outFile, { checkpointIteration: ck.state.it, data, split, postprocess: !v["no-postprocess"], ...ev });
      console.log(formatDiceSummary(ev.summary));
      console.log(`eval: written to ${outFile}`);
    } finally {
      model.dispose();
    }
  },
};
