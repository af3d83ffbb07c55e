/**
 * `npm run bench`: training-step time of (a) the narrow 3D U-Net (8-16-32, 32^3), (b) the mini-profile
 * model, (c) the paper-width model at 32^3, each with this kit's wasm kernels, with tfjs's stock wasm
 * kernels, with PyTorch CPU (2 threads) on the same architecture when python3 has torch, and on webgpu
 * when a WebGPU adapter exists (a software adapter, Mesa's llvmpipe, is labelled as such and given a
 * time limit: it is a correctness path, not a fast one). All in one run on this machine; prints ms/step
 * (median after a warm-up), GFLOP/s of the convolutions (3x the forward convolution FLOPs per step),
 * and the ratios. --skip-webgpu leaves the webgpu row out. --rounds=N alternates ours and PyTorch N times
 * and reports the median over rounds and each round's ratio: this machine's speed drifts by 20-30% within
 * minutes, so one measurement of each side, minutes apart, can mislead.
 */
import { spawnSync } from "node:child_process";
import { cpus } from "node:os";
import { join } from "node:path";
import { kitRoot } from "../src/util/paths.js";
import { BENCH_ROI, forwardConvFlops, type BenchNet } from "./nets.js";
import type { StepBench } from "./step-bench.js";

interface Row {
  net: BenchNet;
  roi: [number, number, number];
  /** Timed steps after warm-up steps, for ours and PyTorch; stock tfjs (up to 20x slower) gets fewer. */
  steps: number;
  warm: number;
  stockSteps: number;
  stockWarm: number;
}

const ROWS: Row[] = [
  { net: "narrow", roi: BENCH_ROI.narrow, steps: 10, warm: 5, stockSteps: 5, stockWarm: 1 },
  { net: "mini", roi: BENCH_ROI.mini, steps: 10, warm: 5, stockSteps: 5, stockWarm: 1 },
  { net: "paper", roi: BENCH_ROI.paper, steps: 3, warm: 2, stockSteps: 2, stockWarm: 1 },
];

const median = (xs: number[]) => {
  const s = xs.slice().sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

function runNode(row: Row, stock: boolean): number | string {
  const r = spawnSync(
    process.execPath,
    [
      join(kitRoot(), "dist", "bench", "step-bench.js"),
      row.net,
      row.roi.join(","),
      String(stock ? row.stockSteps : row.steps),
      String(stock ? row.stockWarm : row.warm),
    ],
    {
      encoding: "utf8",
      // The stock row is tfjs alone: without the kit's kernels and without its fused heads.
      env: { ...process.env, MASSIVE_BACKEND: "wasm", MASSIVE_STOCK_KERNELS: stock ? "1" : "0", ...(stock ? { MASSIVE_FUSED_HEADS: "0" } : {}) },
      timeout: 30 * 60 * 1000,
    },
  );
  if (r.status !== 0)
    return `failed: ${(r.stderr || "")
      .split("\n")
      .filter((l) => !l.startsWith("bench-step"))
      .slice(-3)
      .join(" ")}`;
  const out = JSON.parse(r.stdout.trim().split("\n").pop()!) as { ms: number[]; nanSteps?: number };
  if (out.nanSteps) process.stderr.write(`bench: ${row.net}${stock ? " (stock kernels)" : ""}: ${out.nanSteps} step(s) gave NaN losses\n`);
  return median(out.ms);
}

/** The webgpu row: [ms or why not, adapter label]. A software adapter gets 1 timed step and 3 minutes. */
function runWebGpu(row: Row, software: boolean | undefined): [number | string, string] {
  const steps = software ? 1 : row.steps,
    warm = software ? 1 : row.warm,
    maxS = software ? 180 : 600;
  const r = spawnSync(
    process.execPath,
    [join(kitRoot(), "dist", "bench", "step-bench.js"), row.net, row.roi.join(","), String(steps), String(warm), String(maxS)],
    {
      encoding: "utf8",
      env: { ...process.env, MASSIVE_BACKEND: "webgpu" },
      timeout: (maxS + 60) * 1000,
    },
  );
  const done = (r.stderr || "").split("\n").filter((l) => l.startsWith("bench-step ")).length;
  if (r.status !== 0) {
    const why = r.error
      ? `killed after ${maxS + 60} s (${done} step(s) done)`
      : (r.stderr || "")
          .split("\n")
          .filter((l) => l && !l.startsWith("bench-step") && !/artificially reduced/.test(l))
          .slice(-2)
          .join(" ");
    return [/no tfjs backend could start|no WebGPU adapter|no adapter/.test(why) ? "skipped (no WebGPU adapter)" : `failed: ${why}`, ""];
  }
  const out = JSON.parse(r.stdout.trim().split("\n").pop()!) as StepBench;
  const launches = out.launches ? `; ${out.launches.perStep} launches a step at ${out.launches.hostMicrosEach} us of host time each` : "";
  return [
    out.ms.length ? median(out.ms) : `over ${maxS} s (warm-up step ${out.warmMs.map((v) => (v / 1000).toFixed(0)).join(", ")} s)`,
    (out.adapter ?? "") + launches,
  ];
}

/** A python with torch: $PYTHON, python3 on PATH, or Debian's /usr/bin/python3 (python3-torch). */
function findTorchPython(): string | undefined {
  for (const py of [process.env.PYTHON, "python3", "/usr/bin/python3"]) {
    if (!py) continue;
    const probe = spawnSync(py, ["-c", "import torch"], { encoding: "utf8" });
    if (probe.status === 0) return py;
  }
  return undefined;
}

function runTorch(row: Row): number | string {
  const py = findTorchPython();
  if (!py) return "skipped (no python3 with torch; Debian: apt-get install python3-torch)";
  const r = spawnSync(
    py,
    [
      join(kitRoot(), "bench", "torch_bench.py"),
      "--net",
      row.net,
      "--steps",
      String(row.steps),
      "--warmup",
      String(row.warm),
      "--threads",
      "2",
      "--roi",
      row.roi.join(","),
    ],
    {
      encoding: "utf8",
      timeout: 30 * 60 * 1000,
    },
  );
  if (r.status !== 0) return `failed: ${(r.stderr || "").split("\n").slice(-3).join(" ")}`;
  return median((JSON.parse(r.stdout.trim().split("\n").pop()!) as { ms: number[] }).ms);
}

/** The median over rounds, or the first failure's text. */
function overRounds(values: (number | string)[]): number | string {
  const failed = values.find((v) => typeof v === "string");
  return failed ?? median(values as number[]);
}

function main() {
  const args = process.argv.slice(2);
  // --skip-stock: leave out the stock tfjs kernels (the paper-width row takes ~4 min a step with them).
  const skipStock = args.includes("--skip-stock");
  const skipWebGpu = args.includes("--skip-webgpu");
  let software: boolean | undefined; // known after the first webgpu row
  const only = args.filter((a) => !a.startsWith("--"));
  const roundsArg = args.find((a) => a.startsWith("--rounds="));
  const rounds = roundsArg ? Number(roundsArg.slice("--rounds=".length)) : 1;
  if (!Number.isInteger(rounds) || rounds < 1) throw new Error(`bench: --rounds must be a positive integer, got "${roundsArg}"`);
  const cpu = cpus()[0]?.model ?? "unknown CPU";
  console.log(
    `bench: ${cpus().length} cores (${cpu}), node ${process.version}; ours: main thread + 1 convolution worker, stock tfjs wasm: 1 thread, PyTorch: 2 threads`,
  );
  const fmt = (v: number | string) => (typeof v === "number" ? `${v.toFixed(0)} ms` : v);
  for (const row of ROWS.filter((r) => only.length === 0 || only.includes(r.net))) {
    const flops = 3 * forwardConvFlops(row.net, row.roi);
    const gf = (v: number | string) => (typeof v === "number" ? `${(flops / v / 1e6).toFixed(1)} GFLOP/s` : "");
    const oursRounds: (number | string)[] = [];
    const torchRounds: (number | string)[] = [];
    for (let k = 1; k <= rounds; k++) {
      const round = rounds > 1 ? ` (round ${k}/${rounds})` : "";
      process.stderr.write(`bench: ${row.net} at ${row.roi.join("x")}: ours${round}...\n`);
      oursRounds.push(runNode(row, false));
      process.stderr.write(`bench: ${row.net}: PyTorch${round}...\n`);
      torchRounds.push(runTorch(row));
    }
    const ours = overRounds(oursRounds);
    const torch = overRounds(torchRounds);
    if (!skipStock) process.stderr.write(`bench: ${row.net}: stock tfjs wasm...\n`);
    const stock = skipStock ? "skipped (--skip-stock)" : runNode(row, true);
    let webgpu: number | string = "skipped (--skip-webgpu)",
      adapter = "";
    if (!skipWebGpu) {
      process.stderr.write(`bench: ${row.net}: webgpu...\n`);
      [webgpu, adapter] = runWebGpu(row, software);
      if (adapter) software = /^software/.test(adapter);
    }
    console.log(`\n${row.net} net, input ${row.roi.join("x")}, ${(flops / 1e9).toFixed(2)} GFLOP of convolutions per training step`);
    console.log(`  ours (im2col + XNNPACK, wasm): ${fmt(ours)}  ${gf(ours)}`);
    console.log(`  stock tfjs wasm:               ${fmt(stock)}  ${gf(stock)}`);
    console.log(`  PyTorch CPU:                   ${fmt(torch)}  ${gf(torch)}`);
    console.log(
      `  webgpu${software ? " (SOFTWARE adapter, not a GPU)" : software === false ? " (GPU)" : ""}: ${" ".repeat(software ? 0 : software === false ? 17 : 23)}${fmt(webgpu)}  ${gf(webgpu)}${adapter ? `  [${adapter}]` : ""}`,
    );
    if (typeof ours === "number" && typeof stock === "number") console.log(`  stock / ours:   ${(stock / ours).toFixed(1)}x`);
    if (typeof ours === "number" && typeof torch === "number")
      console.log(`  ours / PyTorch: ${(ours / torch).toFixed(2)}${rounds > 1 ? " (medians over rounds)" : ""}`);
    if (rounds > 1) {
      const each = oursRounds.map((o, k) => {
        const t = torchRounds[k];
        return typeof o === "number" && typeof t === "number" ? `${o.toFixed(0)}/${t.toFixed(0)} = ${(o / t).toFixed(2)}` : `${fmt(o)} / ${fmt(t)}`;
      });
      console.log(`  each round, ours/PyTorch ms: ${each.join("; ")}`);
    }
  }
}

main();
