/**
 * Training runs: the online protocol with a replay memory (docs/method.md#the-online-protocol) and the
 * repeated-epochs baseline (docs/method.md#the-repeated-baseline), sharing model, loss, optimiser,
 * augmentation and checkpoints. A run resumed from its last checkpoint continues exactly as the
 * uninterrupted run would have.
 */
import { initBackend } from "../backend.js";
import { NO_AUGMENT, PAPER_AUGMENT, samplePatch } from "../data/augment.js";
import type { ManifestCase } from "../data/manifest.js";
import { createMemory, memoryFromState, type MemorySnapshotItem, type ReplayMemory } from "../memory/memory.js";
import type { MemoryState } from "../memory/item.js";
import { describeInit, loadGenesisWeights } from "../model/init-weights.js";
import { createModel } from "../model/create.js";
import type { UniversalUNet } from "../model/universal-unet.js";
import { Progress } from "../util/progress.js";
import { Rng, type RngState } from "../util/rng.js";
import { AdamW } from "./adamw.js";
import { CaseStore } from "../data/case-store.js";
import { organRatioWeights } from "../model/loss.js";
import { hasCheckpoint, loadCheckpoint, saveCheckpoint } from "./checkpoint.js";
import { checkResume, dataFingerprint, type DataFingerprint } from "./resume-check.js";
import { memoryPerRank, rankCount, upgradeConfig, validateConfig, type TrainConfig } from "./config.js";
import type { TrainEvents } from "./events.js";
import { cosineLr, onlineBudget, rankStreamIndex, rankStreamLength, usableStreamLength } from "./schedule.js";
import { trainStep } from "./step.js";

/** One data-parallel rank of an online run: its place in its share of the stream, its memory, its generator. */
export interface RankState {
  /** Cases of the rank's share that have arrived (rankStreamIndex maps them to stream positions). */
  pos: number;
  /** Replays left for the rank's last arrival. */
  pendingReplays: number;
  /** The rank's generator: its replay draws and its cases' augmentation. */
  rng: RngState;
  memory: MemoryState;
}

/**
 * The online run. Its own pos, pendingReplays, rng and memory are rank 0's, which at one rank is the whole
 * run (and the state of a checkpoint of an older kit); ranks 1..R-1 are in `moreRanks`.
 */
export interface OnlineState extends RankState {
  kind: "online";
  it: number;
  budget: number;
  sitesEnded: string[];
  moreRanks?: RankState[];
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
  /** Rank 0's memory: the run's only one at one rank. */
  memory?: ReplayMemory;
  /** Every rank's memory, rank 0 first. */
  memories?: ReplayMemory[];
  stopped: boolean;
  /** Dispose the model's tensors. */
  dispose(): void;
}

/**
 * Rank r's generator at the start of a run. Rank 0's is the run's (so one rank draws as before ranks
 * existed); rank r's seed is offset by 1000 r, as the reference seeds each rank's sampler
 * (`seed_base + rank * 1000`). 7919 is prime, so a rank r < 7919 never starts where another seed's rank 0 does.
 */
function rankRng(seed: number, rank: number): RngState {
  return new Rng(seed * 7919 + 17 + 1000 * rank).state();
}

function freshState(cfg: TrainConfig, streamLength: number): RunState {
  const rng = rankRng(cfg.seed, 0);
  if (cfg.strategy === "repeated") {
    const perEpoch = Math.ceil(streamLength / cfg.batchSize);
    return { kind: "repeated", epoch: 0, order: [], posInEpoch: 0, it: 0, budget: cfg.epochs * perEpoch, rng, config: cfg, optStep: 0, done: false };
  }
  const maxNumSeen = (cfg.limitNumSeenCoeff ?? 0) > 0 ? cfg.limitNumSeenCoeff! * cfg.samplingRate : 0;
  const R = rankCount(cfg);
  const kind = cfg.strategy;
  const rank = (r: number): RankState => ({
    pos: 0,
    pendingReplays: 0,
    rng: rankRng(cfg.seed, r),
    memory: createMemory(kind, memoryPerRank(cfg), cfg.topOneInK, cfg.polyakGamma, maxNumSeen).toJSON(),
  });
  const [first, ...more] = Array.from({ length: R }, (_, r) => rank(r));
  return {
    kind: "online",
    pos: 0,
    it: 0,
    budget: onlineBudget(streamLength, cfg.batchSize, cfg.samplingRate, R),
    pendingReplays: 0,
    sitesEnded: [],
    rng: first.rng,
    memory: first.memory,
    ...(R > 1 ? { moreRanks: more } : {}),
    config: cfg,
    optStep: 0,
    done: false,
  };
}

/** Every rank's state, rank 0 (the online state itself) first. */
function rankStates(st: OnlineState): RankState[] {
  return [st, ...(st.moreRanks ?? [])];
}

/** What a run of R > 1 ranks does, for its log (floor(N / R) per rank, as the reference). */
function describeRanks(cfg: TrainConfig, budget: number): string {
  const R = rankCount(cfg),
    n = memoryPerRank(cfg);
  const lost = cfg.memorySize - n * R;
  return (
    `train: ${R} ranks, each with 1/${R} of the stream (interleaved) and a memory of ${n} (N ${cfg.memorySize} / ${R}` +
    `${lost ? `, rounded down: ${n * R} in all` : ""}); ${budget} steps of ${R} x ${cfg.batchSize} case(s), gradients averaged`
  );
}

export async function train(opts: TrainOptions): Promise<TrainResult> {
  const log = opts.log ?? ((s: string) => process.stderr.write(s + "\n"));
  await initBackend({ log });
  const store = opts.store ?? new CaseStore(opts.data, opts.config.roi);
  const stream = store.trainStream(opts.sites, log);
  if (stream.length === 0) throw new Error(`${opts.data}: no training cases${opts.sites ? ` for sites ${opts.sites.join(",")}` : ""}`);
  const data = dataFingerprint(opts.data, stream, opts.sites);
  let state: RunState;
  const model = createModel(opts.config.model);
  const opt = new AdamW(model.params.trainable, { beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: opts.config.weightDecay });
  let resumed = false;
  try {
    if (opts.resume && opts.runDir && hasCheckpoint(opts.runDir)) {
      const ck = loadCheckpoint<RunState>(opts.runDir);
      state = { ...ck.state, config: upgradeConfig(ck.state.config) };
      resumed = true;
      if (state.kind === "online" && rankStates(state).length !== rankCount(state.config)) {
        throw new Error(
          `${ck.dir}: the state holds ${rankStates(state).length} rank(s), its config says ${rankCount(state.config)}; the checkpoint is damaged`,
        );
      }
      for (const note of [...ck.warnings, ...checkResume(ck.dir, state, opts.config, data)]) log(`warning: ${note}`);
      model.params.importArrays(
        ck.arrays.filter((a) => !a.name.includes(":")),
        ck.dir,
      );
      opt.importArrays(
        ck.arrays.filter((a) => a.name.includes(":")),
        state.optStep,
        ck.dir,
      );
      log(`resumed from ${ck.dir} at iteration ${state.it}/${state.budget}`);
    } else {
      if (opts.resume && opts.runDir) log(`no checkpoint in ${opts.runDir}: starting a fresh run`);
      validateConfig(opts.config);
      state = { ...freshState(opts.config, stream.length), data };
      if (rankCount(opts.config) > 1) log(describeRanks(opts.config, state.budget));
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
    memories: state.kind === "online" ? rankStates(state).map((r) => memoryFromState(r.memory)) : undefined,
    stopped,
    dispose: () => model.dispose(),
  };
}

/** A rank while the run is live: its saved state, and its memory and generator as objects. */
interface LiveRank {
  st: RankState;
  memory: ReplayMemory;
  rng: Rng;
}

class Runner {
  private readonly rng: Rng;
  /** Online strategies: the ranks, rank 0 (whose generator is `rng`) first. */
  private readonly ranks: LiveRank[] = [];
  private readonly progress?: Progress;
  /** Online: each site of the arriving stream and its last stream position, in stream order. */
  private readonly siteEnds: { site: string; last: number }[] = [];
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
    if (state.kind === "online") {
      const states = rankStates(state);
      this.ranks = states.map((st, r) => ({ st, memory: memoryFromState(st.memory), rng: r === 0 ? this.rng : new Rng(st.rng) }));
      const usable = usableStreamLength(stream.length, state.config.batchSize, states.length);
      for (let i = 0; i < usable; i++) if (i === usable - 1 || stream[i].site !== stream[i + 1].site) this.siteEnds.push({ site: stream[i].site, last: i });
    }
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

  /**
   * One optimisation step on the given stream positions (with R ranks: R equal groups, rank 0's first),
   * each case cropped and augmented with the generator in `rngs` at its position; returns per-case
   * observations.
   */
  private async step(indices: number[], rngs: Rng[]) {
    const t0 = performance.now();
    const aug = this.cfg.augment ? PAPER_AUGMENT : NO_AUGMENT;
    const batch = indices.map((i, k) => {
      const c = this.store.load(this.stream[i], i);
      return {
        patch: samplePatch(c.image, c.label, this.cfg.roi, rngs[k], aug, c.template),
        organs: c.organs,
        weights: organRatioWeights(c.classCounts, c.organs),
      };
    });
    const lr = cosineLr(this.cfg.lr, this.state.it, this.state.budget, Math.round((this.cfg.warmup ?? 0) * this.state.budget));
    this.opts.events?.onBatch?.({ it: this.state.it + 1, batch, lr, model: this.model });
    const r = await trainStep(this.model, this.opt, batch, lr, this.cfg.dice, Math.max(1, this.ranks.length));
    this.state.it += 1;
    this.state.optStep = this.opt.step;
    this.stepsThisCall += 1;
    const ms = performance.now() - t0;
    this.progress?.update(this.state.it, `loss ${r.loss.toFixed(4)}`);
    await this.opts.events?.onStep?.({
      it: this.state.it,
      budget: this.state.budget,
      loss: r.loss,
      lr,
      cases: indices,
      organLoss: r.perCase.map((c) => c.organLoss),
      ms,
      memory: this.snapshot(),
    });
    return r;
  }

  /** Save after the step if due; true when the caller asked to stop here (simulated kill). */
  private async afterStep(): Promise<boolean> {
    if (this.state.it % this.cfg.checkpointEvery === 0) await this.checkpoint();
    return this.opts.stopAfter !== undefined && this.stepsThisCall >= this.opts.stopAfter;
  }

  private async checkpoint(): Promise<void> {
    this.state.rng = this.rng.state();
    for (const k of this.ranks) {
      k.st.rng = k.rng.state();
      k.st.memory = k.memory.toJSON();
    }
    if (!this.opts.runDir) return;
    saveCheckpoint(this.opts.runDir, this.state, [...(await this.model.params.exportArrays()), ...(await this.opt.exportArrays())]);
    void this.opts.events?.onCheckpoint?.({ it: this.state.it });
  }

  /** Online: every rank's memory contents (each item with its rank when there are several). */
  private snapshot(): MemorySnapshotItem[] | undefined {
    if (this.ranks.length === 0) return undefined;
    if (this.ranks.length === 1) return this.ranks[0].memory.snapshot();
    return this.ranks.flatMap((k, rank) => k.memory.snapshot().map((m) => ({ ...m, rank })));
  }

  /** Stream positions below this one have all arrived (at some rank). */
  private arrivedPrefix(): number {
    const R = this.ranks.length,
      B = this.cfg.batchSize;
    const len = rankStreamLength(this.stream.length, B, R);
    return Math.min(...this.ranks.map((k, r) => (k.st.pos < len ? rankStreamIndex(k.st.pos, r, B, R) : usableStreamLength(this.stream.length, B, R))));
  }

  /** Report, in stream order, each site whose last case has arrived (at every rank) and was replayed. */
  private async maybeSiteEnd(st: OnlineState): Promise<void> {
    const arrived = this.arrivedPrefix();
    for (const { site, last } of this.siteEnds) {
      if (last >= arrived) break;
      if (st.sitesEnded.includes(site)) continue;
      st.sitesEnded.push(site);
      await this.opts.events?.onSiteEnd?.({ site, it: st.it, memory: this.snapshot()!, model: this.model });
    }
  }

  /**
   * Run rank r's loop (docs/method.md, "The online protocol") up to its next replay: arrivals of its next B cases, no
   * training until its memory is full, shrinking to capacity, then S replays per arrival.
   */
  private async untilReplay(st: OnlineState, r: number): Promise<void> {
    const { st: rank, memory: mem } = this.ranks[r];
    const R = this.ranks.length;
    const { batchSize: B, samplingRate: S } = this.cfg;
    const len = rankStreamLength(this.stream.length, B, R);
    while (rank.pendingReplays === 0) {
      if (rank.pos < len) {
        const arrivals = [];
        for (let k = rank.pos; k < Math.min(len, rank.pos + B); k++) {
          const i = rankStreamIndex(k, r, B, R);
          arrivals.push({ idx: i, site: this.stream[i].site });
        }
        mem.arrive(arrivals);
        rank.pos += arrivals.length;
        const pos = arrivals[arrivals.length - 1].idx + 1;
        await this.opts.events?.onArrival?.({ it: st.it, pos, site: arrivals[0].site, memorySize: mem.size, ...(R > 1 ? { rank: r } : {}) });
        if (mem.size < mem.state.capacity && rank.pos < len) {
          await this.maybeSiteEnd(st); // fill first: no training yet
          continue;
        }
        mem.shrink();
      }
      rank.pendingReplays = S;
    }
  }

  /**
   * Each iteration every rank runs its loop to its next replay and draws B items from its own memory;
   * one step trains on all R x B cases with the gradients averaged (DDP); each rank's memory observes
   * its own cases. The ranks stay in step: each spends one replay per iteration.
   */
  private async runOnline(st: OnlineState): Promise<boolean> {
    const B = this.cfg.batchSize;
    while (st.it < st.budget) {
      for (let r = 0; r < this.ranks.length; r++) await this.untilReplay(st, r);
      const picked = this.ranks.map((k) => k.memory.sample(B, k.rng));
      const res = await this.step(
        picked.flat(),
        picked.flatMap((p, r) => p.map(() => this.ranks[r].rng)),
      );
      picked.forEach((p, r) => this.ranks[r].memory.observeBatch(p, res.perCase.slice(r * B, (r + 1) * B)));
      let replayed = false;
      for (const k of this.ranks) {
        k.st.pendingReplays -= 1;
        if (k.st.pendingReplays === 0) replayed = true;
      }
      if (replayed) await this.maybeSiteEnd(st);
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
      await this.step(
        picked,
        picked.map(() => this.rng),
      );
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
