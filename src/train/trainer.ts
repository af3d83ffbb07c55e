/**
 * Training runs: the online protocol with a replay memory (docs/method.md#the-online-protocol) and the
 * repeated-epochs baseline (docs/method.md#the-repeated-baseline), sharing model, loss, optimiser,
 * augmentation and checkpoints. A run resumed from its last checkpoint continues exactly as the
 * uninterrupted run would have.
 */
import { readFileSync } from "node:fs";
import { initBackend } from "../backend.js";
import { NO_AUGMENT, PAPER_AUGMENT, samplePatch } from "../data/augment.js";
import type { ManifestCase } from "../data/manifest.js";
import { createMemory, memoryFromState, type ReplayMemory } from "../memory/memory.js";
import type { MemoryState } from "../memory/item.js";
import { describeInit, loadGenesisWeights } from "../model/init-weights.js";
import { UniversalUNet } from "../model/universal-unet.js";
import { assetPath } from "../util/paths.js";
import { Progress } from "../util/progress.js";
import { Rng, type RngState } from "../util/rng.js";
import { AdamW } from "./adamw.js";
import { CaseStore } from "./cases.js";
import { hasCheckpoint, loadCheckpoint, saveCheckpoint } from "./checkpoint.js";
import { checkResume, dataFingerprint, type DataFingerprint } from "./resume-check.js";
import { validateConfig, type TrainConfig } from "./config.js";
import type { TrainEvents } from "./events.js";
import { cosineLr, onlineBudget, usableStreamLength } from "./schedule.js";
import { trainStep } from "./step.js";

export interface OnlineState {
  kind: "online";
  pos: number;
  it: number;
  budget: number;
  pendingReplays: number;
  sitesEnded: string[];
  rng: RngState;
  memory: MemoryState;
}

export interface RepeatedState {
  kind: "repeated";
  epoch: number;
  order: number[];
  posInEpoch: number;
  it: number;
  budget: number;
  rng: RngState;
}

export type RunState = (OnlineState | RepeatedState) & { config: TrainConfig; optStep: number; done: boolean; data?: DataFingerprint };

export interface TrainOptions {
  config: TrainConfig;
  /** Prepared data folder (manifest.json). */
  data: string;
  /** Run folder for checkpoints; none: nothing is written. */
  runDir?: string;
  resume?: boolean;
  /** Reuse the caller's case store (its cache of loaded volumes); default: a new one over `data`. */
  store?: CaseStore;
  /** Restrict the stream to these sites (e.g. the single-site set). */
  sites?: string[];
  events?: TrainEvents;
  /** Stop (as if killed) after this many iterations in this call; the last checkpoint stays. */
  stopAfter?: number;
  log?: (line: string) => void;
  /** Show a progress bar / plain progress lines (default true). */
  progress?: boolean;
  /** A PyTorch checkpoint (Models Genesis UNet3D names) for the backbone of a fresh run (init-weights.ts). */
  init?: string;
}

export interface TrainResult {
  model: UniversalUNet;
  store: CaseStore;
  stream: ManifestCase[];
  state: RunState;
  memory?: ReplayMemory;
  stopped: boolean;
  /** Dispose the model's tensors. */
  dispose(): void;
}

let embeddingCache: number[][] | undefined;

export function loadTextEmbedding(): number[][] {
  if (!embeddingCache) {
    const file = assetPath("txt_encoding.json");
    const j = JSON.parse(readFileSync(file, "utf8")) as { embedding?: number[][]; shape?: number[] };
    if (!Array.isArray(j.embedding) || j.embedding.length !== 32 || j.embedding[0].length !== 512) {
      throw new Error(`${file}: expected "embedding" of shape [32, 512]`);
    }
    embeddingCache = j.embedding;
  }
  return embeddingCache;
}

export function createModel(config: TrainConfig): UniversalUNet {
  return new UniversalUNet(config.model, loadTextEmbedding());
}

function freshState(cfg: TrainConfig, streamLength: number): RunState {
  const rng = new Rng(cfg.seed * 7919 + 17).state();
  if (cfg.strategy === "repeated") {
    const perEpoch = Math.ceil(streamLength / cfg.batchSize);
    return { kind: "repeated", epoch: 0, order: [], posInEpoch: 0, it: 0, budget: cfg.epochs * perEpoch, rng, config: cfg, optStep: 0, done: false };
  }
  const maxNumSeen = (cfg.limitNumSeenCoeff ?? 0) > 0 ? cfg.limitNumSeenCoeff! * cfg.samplingRate : 0;
  const memory = createMemory(cfg.strategy, cfg.memorySize, cfg.topK, cfg.polyakGamma, maxNumSeen).toJSON();
  return {
    kind: "online",
    pos: 0,
    it: 0,
    budget: onlineBudget(streamLength, cfg.batchSize, cfg.samplingRate),
    pendingReplays: 0,
    sitesEnded: [],
    rng,
    memory,
    config: cfg,
    optStep: 0,
    done: false,
  };
}

export async function train(opts: TrainOptions): Promise<TrainResult> {
  const log = opts.log ?? ((s: string) => process.stderr.write(s + "\n"));
  await initBackend({ log });
  const store = opts.store ?? new CaseStore(opts.data, opts.config.roi);
  const stream = store.trainStream(opts.sites, log);
  if (stream.length === 0) throw new Error(`${opts.data}: no training cases${opts.sites ? ` for sites ${opts.sites.join(",")}` : ""}`);
  const data = dataFingerprint(opts.data, stream, opts.sites);
  let state: RunState;
  const model = createModel(opts.config);
  const opt = new AdamW(model.params.trainable, { beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: opts.config.weightDecay });
  let resumed = false;
  try {
    if (opts.resume && opts.runDir && hasCheckpoint(opts.runDir)) {
      const ck = loadCheckpoint<RunState>(opts.runDir);
      state = ck.state;
      resumed = true;
      for (const note of [...ck.warnings, ...checkResume(ck.dir, state, opts.config, data)]) log(`warning: ${note}`);
      model.params.importArrays(ck.arrays.filter((a) => !a.name.includes(":")), ck.dir);
      opt.importArrays(ck.arrays.filter((a) => a.name.includes(":")), state.optStep, ck.dir);
      log(`resumed from ${ck.dir} at iteration ${state.it}/${state.budget}`);
    } else {
      if (opts.resume && opts.runDir) log(`no checkpoint in ${opts.runDir}: starting a fresh run`);
      validateConfig(opts.config);
      state = { ...freshState(opts.config, stream.length), data };
      if (opts.init) for (const line of describeInit(opts.init, loadGenesisWeights(model, opts.init))) log(line);
    }
    await opts.events?.onStart?.({ it: state.it, resumed, done: state.done });
  } catch (e) {
    model.dispose();
    opt.dispose();
    throw e;
  }
  const runner = new Runner(opts, state, model, opt, store, stream, log);
  let stopped = false;
  try {
    stopped = await runner.run();
  } finally {
    opt.dispose();
  }
  return {
    model,
    store,
    stream,
    state,
    memory: state.kind === "online" ? memoryFromState(state.memory) : undefined,
    stopped,
    dispose: () => model.dispose(),
  };
}

class Runner {
  private readonly rng: Rng;
  private memory?: ReplayMemory;
  private readonly progress?: Progress;
  private stepsThisCall = 0;

  constructor(
    private readonly opts: TrainOptions,
    private readonly state: RunState,
    private readonly model: UniversalUNet,
    private readonly opt: AdamW,
    private readonly store: CaseStore,
    private readonly stream: ManifestCase[],
    private readonly log: (s: string) => void,
  ) {
    this.rng = new Rng(state.rng);
    if (state.kind === "online") this.memory = memoryFromState(state.memory);
    if (opts.progress !== false) {
      this.progress = new Progress({ label: `train ${state.config.strategy}`, total: state.budget, plainEverySec: 10 });
    }
  }

  async run(): Promise<boolean> {
    const stopped = this.state.kind === "online" ? await this.runOnline(this.state) : await this.runRepeated(this.state);
    if (!stopped) {
      this.state.done = true;
      await this.checkpoint();
    }
    return stopped;
  }

  private get cfg(): TrainConfig {
    return this.state.config;
  }

  /** One optimisation step on the given stream positions; returns per-case observations. */
  private async step(indices: number[]) {
    const t0 = performance.now();
    const aug = this.cfg.augment ? PAPER_AUGMENT : NO_AUGMENT;
    const batch = indices.map((i) => {
      const c = this.store.load(this.stream[i], i);
      return { patch: samplePatch(c.image, c.label, this.cfg.roi, this.rng, aug, c.template), organs: c.organs, weights: c.weights };
    });
    const lr = cosineLr(this.cfg.lr, this.state.it, this.state.budget, Math.round((this.cfg.warmup ?? 0) * this.state.budget));
    this.opts.events?.onBatch?.({ it: this.state.it + 1, batch, lr, model: this.model });
    const r = await trainStep(this.model, this.opt, batch, lr, this.cfg.dice);
    this.state.it += 1;
    this.state.optStep = this.opt.step;
    this.stepsThisCall += 1;
    const ms = performance.now() - t0;
    this.progress?.update(this.state.it, `loss ${r.loss.toFixed(4)}`);
    await this.opts.events?.onStep?.({ it: this.state.it, budget: this.state.budget, loss: r.loss, lr, cases: indices, organLoss: r.perCase.map((c) => c.organLoss), ms, memory: this.memory?.snapshot() });
    return r;
  }

  /** Save after the step if due; true when the caller asked to stop here (simulated kill). */
  private async afterStep(): Promise<boolean> {
    if (this.state.it % this.cfg.checkpointEvery === 0) await this.checkpoint();
    return this.opts.stopAfter !== undefined && this.stepsThisCall >= this.opts.stopAfter;
  }

  private async checkpoint(): Promise<void> {
    this.state.rng = this.rng.state();
    if (this.state.kind === "online" && this.memory) this.state.memory = this.memory.toJSON();
    if (!this.opts.runDir) return;
    saveCheckpoint(this.opts.runDir, this.state, [...(await this.model.params.exportArrays()), ...(await this.opt.exportArrays())]);
    void this.opts.events?.onCheckpoint?.({ it: this.state.it });
  }

  private async maybeSiteEnd(st: OnlineState): Promise<void> {
    if (st.pos === 0) return;
    const cur = this.stream[st.pos - 1].site;
    const next = st.pos < usableStreamLength(this.stream.length, this.cfg.batchSize) ? this.stream[st.pos].site : undefined;
    if (cur === next || st.sitesEnded.includes(cur)) return;
    st.sitesEnded.push(cur);
    await this.opts.events?.onSiteEnd?.({ site: cur, it: st.it, memory: this.memory!.snapshot(), model: this.model });
  }

  private async runOnline(st: OnlineState): Promise<boolean> {
    const mem = this.memory!;
    const { batchSize: B, samplingRate: S, memorySize: N } = this.cfg;
    const len = usableStreamLength(this.stream.length, B);
    while (st.it < st.budget) {
      if (st.pendingReplays === 0) {
        if (st.pos < len) {
          const arrivals = [];
          for (let i = st.pos; i < Math.min(len, st.pos + B); i++) arrivals.push({ idx: i, site: this.stream[i].site });
          mem.arrive(arrivals);
          st.pos += arrivals.length;
          await this.opts.events?.onArrival?.({ it: st.it, pos: st.pos, site: arrivals[0].site, memorySize: mem.size });
          if (mem.size < N && st.pos < len) {
            await this.maybeSiteEnd(st); // fill first: no training yet
            continue;
          }
          mem.shrink();
        }
        st.pendingReplays = S;
      }
      const picked = mem.sample(B, this.rng);
      const r = await this.step(picked);
      mem.observeBatch(picked, r.perCase);
      st.pendingReplays -= 1;
      if (st.pendingReplays === 0) await this.maybeSiteEnd(st);
      if (await this.afterStep()) return true;
    }
    await this.maybeSiteEnd(st);
    return false;
  }

  private async runRepeated(st: RepeatedState): Promise<boolean> {
    const B = this.cfg.batchSize;
    const len = this.stream.length;
    while (st.it < st.budget) {
      if (st.posInEpoch >= st.order.length) {
        if (st.order.length > 0) {
          st.epoch += 1;
          await this.opts.events?.onEpochEnd?.({ epoch: st.epoch, it: st.it });
        }
        st.order = this.rng.shuffle(Array.from({ length: len }, (_, i) => i));
        st.posInEpoch = 0;
      }
      const picked = st.order.slice(st.posInEpoch, st.posInEpoch + B);
      st.posInEpoch += picked.length;
      await this.step(picked);
      if (await this.afterStep()) return true;
    }
    if (st.posInEpoch >= st.order.length && st.order.length > 0) {
      st.epoch += 1;
      st.posInEpoch = 0;
      st.order = [];
      await this.opts.events?.onEpochEnd?.({ epoch: st.epoch, it: st.it });
    }
    return false;
  }
}
