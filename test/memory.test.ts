import { test } from "node:test";
import assert from "node:assert/strict";
import { maxCoverageRemovals } from "../src/memory/coverage.js";
import type { MemoryItem, MemoryState } from "../src/memory/item.js";
import { createMemory, memoryFromState } from "../src/memory/memory.js";
import { chooseRemovals } from "../src/memory/removal.js";
import { cosineLr, onlineBudget, usableStreamLength } from "../src/train/schedule.js";
import { Rng } from "../src/util/rng.js";

const F: number[][] = [
  [1, 0],
  [0.8, 0.6],
  [0, 1],
  [-1, 0],
  [0, -1],
];

function seenItems(features: number[][], entropy: number[] = features.map(() => 0.1), lifespan: number[] = features.map(() => 1)): MemoryItem[] {
  return features.map((f, i) => ({ idx: i, site: "D1", lifespan: lifespan[i], seen: true, numSeen: 1, loss: 1, feature: f, entropy: entropy[i] }));
}

function state(kind: MemoryState["kind"], capacity: number, items: MemoryItem[], topOneInK = 4): MemoryState {
  return { kind, capacity, topOneInK, gamma: 0.5, items };
}

test("LM: first in, first out; no ageing", () => {
  const m = createMemory("lm", 3);
  m.arrive([0, 1, 2, 3, 4].map((idx) => ({ idx, site: "D1" })));
  assert.ok(m.items.every((x) => x.lifespan === 0));
  const d = m.shrink();
  assert.equal(d.rule, "fifo");
  assert.deepEqual(
    m.items.map((x) => x.idx),
    [2, 3, 4],
  );
});

test("DM/SM: arrival ages every item, the new ones included", () => {
  const m = createMemory("dm", 5);
  m.arrive([{ idx: 0, site: "D1" }]);
  m.arrive([{ idx: 1, site: "D1" }]);
  assert.deepEqual(
    m.items.map((x) => x.lifespan),
    [2, 1],
  );
});

test("nothing to remove at or below capacity", () => {
  assert.deepEqual(chooseRemovals(state("dm", 5, seenItems(F))), { remove: [], rule: "none", protected: [] });
});

test("max-coverage by hand: row maxima 0.9, 0.9, 0.8, 0.5, 0.5 -> remove 0 (tie, earlier), then 1 (tie with 2)", () => {
  assert.deepEqual(maxCoverageRemovals(F, 1), [0]);
  assert.deepEqual(maxCoverageRemovals(F, 2), [0, 1]);
  // After 0 and 1 go, the rest: rows 2: 0.5, 3: 0.5, 4: 0.5 -> the earliest, 2.
  assert.deepEqual(maxCoverageRemovals(F, 3), [0, 1, 2]);
});

test("DM: coverage among seen items when there are at least 2r of them", () => {
  const d = chooseRemovals(state("dm", 3, seenItems(F)));
  assert.equal(d.rule, "coverage");
  assert.deepEqual(d.remove.sort(), [0, 1]);
});

test("DM: unseen items are never coverage candidates", () => {
  const items = seenItems(F);
  items[0] = { idx: 0, site: "D1", lifespan: 1, seen: false, numSeen: 0 };
  // Candidates 1..4 (4 >= 2r = 2): row maxima 0.8, 0.8, 0.5, 0.5 -> remove 1.
  assert.deepEqual(chooseRemovals(state("dm", 4, items)).remove, [1]);
});

test("DM: fewer than 2r seen -> remove the r largest lifespans among all items (ties: older first)", () => {
  const items: MemoryItem[] = [
    { idx: 0, site: "D1", lifespan: 3, seen: true, numSeen: 1, feature: [1, 0], entropy: 1, loss: 1 },
    { idx: 1, site: "D1", lifespan: 5, seen: false, numSeen: 0 },
    { idx: 2, site: "D1", lifespan: 5, seen: false, numSeen: 0 },
    { idx: 3, site: "D1", lifespan: 1, seen: false, numSeen: 0 },
  ];
  const d = chooseRemovals(state("dm", 2, items)); // r = 2, 1 seen < 4
  assert.equal(d.rule, "lifespan");
  assert.deepEqual(d.remove, [1, 2]);
  assert.deepEqual(chooseRemovals(state("dm", 3, items)).remove, [1]); // tie at 5: the earlier
});

test("SM: the top 1/K by entropy are protected, then coverage among the rest", () => {
  const entropy = [0.9, 0.1, 0.2, 0.3, 0.4];
  // K = 4: floor(5/4) = 1 protected (item 0). Candidates 1..4: row maxima 0.8, 0.8, 0.5, 0.5 -> remove 1.
  const d = chooseRemovals(state("sm", 4, seenItems(F, entropy), 4));
  assert.deepEqual(d.protected, [0]);
  assert.deepEqual(d.remove, [1]);
  // DM on the same state removes item 0, the one SM protects.
  assert.deepEqual(chooseRemovals(state("dm", 4, seenItems(F, entropy))).remove, [0]);
  // K = 2: floor(5/2) = 2 protected (0 and 4); candidates 1, 2, 3; r = 1: rows 1: 0.8, 2: 0.8, 3: 0.5 -> 1.
  const d2 = chooseRemovals(state("sm", 4, seenItems(F, entropy), 2));
  assert.deepEqual(d2.protected.sort(), [0, 4]);
  assert.deepEqual(d2.remove, [1]);
});

test("SM: fewer than K candidates -> nothing protected; entropy ties protect the earlier item", () => {
  const items = seenItems(F.slice(0, 3), [0.5, 0.9, 0.1]);
  const d = chooseRemovals(state("sm", 2, items, 4)); // 3 candidates < K = 4
  assert.deepEqual(d.protected, []);
  const tie = chooseRemovals(state("sm", 4, seenItems(F, [0.7, 0.7, 0.1, 0.1, 0.1]), 4));
  assert.deepEqual(tie.protected, [0]);
});

test("SM: the lifespan fallback removes the oldest among all items, protected ones included (as the reference)", () => {
  const items = seenItems(F, [0.1, 0.1, 0.1, 0.1, 0.9], [9, 8, 7, 6, 10]);
  // K = 4 -> item 4 protected; candidates 0..3 (4); capacity 2 -> r = 3, 4 < 6 -> the 3 longest-lived of
  // all five items leave: 4 (lifespan 10, the protected one), 0 (9), 1 (8).
  const d = chooseRemovals(state("sm", 2, items, 4));
  assert.equal(d.rule, "lifespan");
  assert.deepEqual(d.protected, [4]);
  assert.deepEqual(d.remove, [4, 0, 1]);
});

test("LM observe: the loss is overwritten (no averaging); no feature, no entropy in the memory state", () => {
  const m = createMemory("lm", 4);
  m.arrive([{ idx: 3, site: "D1" }]);
  m.observe(3, { loss: 1, feature: [2, 0], entropy: 0.4 });
  m.observe(3, { loss: 3, feature: [0, 5], entropy: 0.8 });
  const it = m.items[0];
  assert.equal(it.loss, 3);
  assert.equal(it.feature, undefined);
  assert.equal(it.entropy, undefined);
  assert.deepEqual([it.seen, it.numSeen], [true, 2]);
  // Monitoring only (Figure 3): the BCE term, Polyak-averaged, apart from the decision state.
  assert.ok(Math.abs(it.monitorEntropy! - 0.6) < 1e-12);
  assert.ok(Math.abs(m.snapshot()[0].entropy! - 0.6) < 1e-12);
});

test("DM observe: loss and feature Polyak-averaged, no entropy stored; the monitoring entropy changes no decision", () => {
  const m = createMemory("dm", 4);
  m.arrive([{ idx: 7, site: "D2" }]);
  m.observe(7, { loss: 1, feature: [2, 0], entropy: 0.4 });
  m.observe(7, { loss: 3, feature: [0, 5], entropy: 0.8 });
  const it = m.items[0];
  assert.equal(it.loss, 2);
  assert.ok(Math.abs(it.feature![0] - Math.SQRT1_2) < 1e-12 && Math.abs(it.feature![1] - Math.SQRT1_2) < 1e-12);
  assert.equal(it.entropy, undefined);
  assert.ok(Math.abs(it.monitorEntropy! - 0.6) < 1e-12);
  // Same features, wildly different monitoring entropies: the same removals.
  const a = seenItems(F).map((x, i) => ({ ...x, entropy: undefined, monitorEntropy: i }));
  const b = seenItems(F).map((x, i) => ({ ...x, entropy: undefined, monitorEntropy: 10 - i }));
  assert.deepEqual(chooseRemovals(state("dm", 3, a)), chooseRemovals(state("dm", 3, b)));
});

test("limit_num_seen_coeff: DM/SM items seen coeff * S times leave after the step; LM ignores it; off by default", () => {
  for (const kind of ["dm", "sm"] as const) {
    const m = createMemory(kind, 4, 4, 0.5, 2); // coeff 1, S 2
    m.arrive([
      { idx: 0, site: "D1" },
      { idx: 1, site: "D1" },
    ]);
    m.observeBatch(
      [0, 1],
      [
        { loss: 1, feature: [1, 0], entropy: 0.1 },
        { loss: 1, feature: [0, 1], entropy: 0.1 },
      ],
    );
    assert.equal(m.size, 2);
    // Both observations of a batch are recorded before the filter (the reference's update_sample_stats).
    m.observeBatch(
      [0, 0],
      [
        { loss: 1, feature: [1, 0], entropy: 0.1 },
        { loss: 1, feature: [1, 0], entropy: 0.1 },
      ],
    );
    assert.deepEqual(
      m.items.map((x) => x.idx),
      [1],
    );
    assert.equal(memoryFromState(m.toJSON()).state.maxNumSeen, 2);
  }
  const off = createMemory("dm", 4);
  assert.equal(off.state.maxNumSeen, undefined);
  off.arrive([{ idx: 0, site: "D1" }]);
  for (let k = 0; k < 5; k++) off.observe(0, { loss: 1, feature: [1, 0], entropy: 0.1 });
  assert.equal(off.size, 1);
  const lm = createMemory("lm", 4, 4, 0.5, 1);
  lm.arrive([{ idx: 0, site: "D1" }]);
  lm.observe(0, { loss: 1, feature: [1, 0], entropy: 0.1 });
  assert.equal(lm.size, 1);
});

test("budget and learning-rate progress as the reference: floor(len / B) * S; step k at progress (k + 1) / budget", () => {
  assert.equal(onlineBudget(10, 1, 5), 50);
  assert.equal(onlineBudget(10, 3, 2), 6); // the drop_last sampler: 9 cases arrive, not ceil(20 / 3) = 7
  assert.equal(usableStreamLength(10, 3), 9);
  assert.equal(onlineBudget(2, 4, 100), 0);
  // train.py advances the batch counter before adjust_learning_rate: lr(k) = base/2 (1 + cos(pi k / len)), k = 1..len.
  assert.ok(Math.abs(cosineLr(1e-4, 0, 4) - 1e-4 * 0.5 * (1 + Math.cos(Math.PI / 4))) < 1e-15);
  assert.equal(cosineLr(1e-4, 3, 4), 0);
  assert.ok(Math.abs(cosineLr(1e-4, 1, 4) - 0.5e-4) < 1e-15);
});

test("observe: first values stored, then Polyak averaging with gamma 0.5 and renormalised features", () => {
  const m = createMemory("sm", 4);
  m.arrive([
    { idx: 7, site: "D2" },
    { idx: 8, site: "D2" },
  ]);
  m.observe(7, { loss: 1, feature: [2, 0], entropy: 0.4 });
  let it = m.items[0];
  assert.deepEqual([it.loss, it.entropy, it.numSeen, it.seen], [1, 0.4, 1, true]);
  assert.deepEqual(it.feature, [1, 0]);
  m.observe(7, { loss: 3, feature: [0, 5], entropy: 0.8 });
  it = m.items[0];
  assert.equal(it.loss, 2);
  assert.ok(Math.abs(it.entropy! - 0.6) < 1e-12);
  assert.ok(Math.abs(it.feature![0] - Math.SQRT1_2) < 1e-12 && Math.abs(it.feature![1] - Math.SQRT1_2) < 1e-12);
  assert.equal(it.numSeen, 2);
  // Nearest-neighbour similarity among seen items (monitoring).
  m.observe(8, { loss: 1, feature: [0, 1], entropy: 0.1 });
  assert.ok(Math.abs(m.items[0].nnSimilarity! - Math.SQRT1_2) < 1e-12);
  // A case that has left memory is ignored.
  m.observe(99, { loss: 1, feature: [1, 0], entropy: 0 });
  assert.equal(m.size, 2);
});

function drive(kind: "lm" | "dm" | "sm", seed: number, steps: number, from?: MemoryState) {
  const rng = new Rng(seed);
  const m = from ? memoryFromState(from) : createMemory(kind, 6, 4);
  for (let s = 0; s < steps; s++) {
    m.arrive([{ idx: s, site: `D${1 + (s >> 2)}` }]);
    m.shrink();
    for (const idx of m.sample(2, rng)) {
      const f = [rng.normal(), rng.normal(), rng.normal()];
      m.observe(idx, { loss: rng.next(), feature: f, entropy: rng.next() });
    }
  }
  return { m, rng };
}

test("deterministic by seed, and a JSON round trip continues identically", () => {
  for (const kind of ["lm", "dm", "sm"] as const) {
    const a = drive(kind, 42, 30).m.toJSON();
    const b = drive(kind, 42, 30).m.toJSON();
    assert.deepEqual(a, b);
    assert.notDeepEqual(a, drive(kind, 43, 30).m.toJSON());
  }
  // Split a run in two through JSON: same end state as one run.
  const rng = new Rng(5);
  const m = createMemory("sm", 6, 4);
  const run = (mem: typeof m, from: number, to: number, r: Rng) => {
    for (let s = from; s < to; s++) {
      mem.arrive([{ idx: s, site: "D1" }]);
      mem.shrink();
      for (const idx of mem.sample(2, r)) mem.observe(idx, { loss: r.next(), feature: [r.normal(), r.normal()], entropy: r.next() });
    }
  };
  run(m, 0, 20, rng);
  const saved = JSON.stringify({ mem: m.toJSON(), rng: rng.state() });
  run(m, 20, 40, rng);
  const restored = JSON.parse(saved);
  const m2 = memoryFromState(restored.mem);
  run(m2, 20, 40, new Rng(restored.rng));
  assert.deepEqual(m2.toJSON(), m.toJSON());
});

test("SM keeps hard but redundant cases that DM drops", () => {
  // Hard cases (entropy 1) all look alike, so DM's coverage rule sees them as redundant; SM protects them.
  const keepHard = (kind: "dm" | "sm") => {
    const rng = new Rng(1);
    const m = createMemory(kind, 8, 4);
    for (let s = 0; s < 60; s++) {
      m.arrive([{ idx: s, site: "D1" }]);
      m.shrink();
      for (const idx of m.sample(3, rng)) {
        const hard = idx % 3 === 0;
        const feature = hard ? [1, 0.01 * rng.normal(), 0] : [rng.normal(), rng.normal(), rng.normal()];
        m.observe(idx, { loss: 1, feature, entropy: hard ? 1 : 0.1 });
      }
    }
    // DM stores no entropy: count by the snapshot's entropy (SM's stored one, DM's monitoring one).
    return m.snapshot().filter((x) => x.entropy === 1).length;
  };
  assert.ok(keepHard("sm") > keepHard("dm"), `sm ${keepHard("sm")} vs dm ${keepHard("dm")}`);
});
