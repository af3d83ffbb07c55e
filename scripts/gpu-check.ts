/**
 * The GPU check (scripts/gpu-check.sh runs it from gpu-bundle/, bundled by esbuild; it also runs from
 * dist/ as `node dist/scripts/gpu-check.js check`). Subcommands, each in its own process because a
 * process has one backend:
 *   check [--out file.json] [--diag file.txt] [--budget seconds] [--python python3]
 *        the whole check: a hardware NVIDIA adapter, the smoke run on webgpu vs wasm (losses within
 *        1e-3 for 10 steps, same memory decisions), then training-step times of the mini and the
 *        paper-width net at 64^3 and 96^3 on webgpu and, when python has torch with CUDA, PyTorch CUDA;
 *        one JSON file; exit status 0 only when the adapter and the comparison pass
 *   adapter                      initialise the backend MASSIVE_BACKEND names, print its report
 *   prep <dir>                   make the smoke data (phantoms, prepared) in <dir>
 *   run <prepared dir> <steps>   the smoke run (scripts/backend-run.ts)
 *   bench <net> <x,y,z> <steps> <warm> <max seconds>   one step timing (bench/step-bench.ts)
 *   kernels <max seconds>        time Conv3D and its two gradients on paper-width layer shapes (the kit's
 *                                kernels, or tfjs's stock ones with MASSIVE_STOCK_KERNELS=1)
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync, writeSync } from "node:fs";
import { cpus, hostname, totalmem, tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { backendReport, describeBackend, initBackend, releaseWebGpu } from "../src/backend.js";
import { runPhantomSet } from "../src/data/prep/phantom-set.js";
import { runPrep } from "../src/data/prep/prep.js";
import { PROFILES } from "../src/profiles.js";
import { kitRoot } from "../src/util/paths.js";
import { smokeRun, type SmokeRun } from "./backend-run.js";
import { stepBench, type StepBench } from "../bench/step-bench.js";
import { convKernelTimings, cubeLayer } from "../bench/conv-kernels.js";
import { profileStep } from "../bench/profile-step.js";
import { BENCH_NETS, forwardConvFlops, type BenchNet } from "../bench/nets.js";
import { parseVec3 } from "../src/cli/args.js";
import { env } from "../src/env.js";

const t0 = performance.now();
const elapsed = () => (performance.now() - t0) / 1000;
const say = (s: string) => process.stderr.write(`gpu-check [${elapsed().toFixed(0)} s]: ${s}\n`);

/** One result line on stdout, written synchronously (Dawn can crash the process at exit, losing buffered output). */
function emit(line: string): void {
  writeSync(1, line + "\n");
}

function self(args: string[], env: Record<string, string>, timeoutS: number): { ok: boolean; json?: unknown; error?: string; seconds: number } {
  const s0 = performance.now();
  const r = spawnSync(process.execPath, [process.argv[1], ...args], {
    encoding: "utf8",
    env: { ...process.env, ...env },
    timeout: Math.round(Math.max(1, timeoutS) * 1000),
    maxBuffer: 64 * 1024 * 1024,
  });
  const seconds = (performance.now() - s0) / 1000;
  const last = (r.stdout ?? "").trim().split("\n").pop() ?? "";
  const stderrTail = (r.stderr ?? "")
    .split("\n")
    .filter((l) => !/artificially reduced/.test(l))
    .slice(-15)
    .join("\n");
  // Dawn's teardown can segfault after the child has written its result: keep the result, say so.
  if (r.signal === "SIGSEGV" && !r.error && last.startsWith("{")) {
    try {
      return { ok: true, json: { ...(JSON.parse(last) as object), crashedAtExit: "SIGSEGV" }, seconds };
    } catch {
      /* not a result line: an error below */
    }
  }
  if (r.error || r.status !== 0) {
    const kernelRows = (r.stderr ?? "")
      .split("\n")
      .filter((l) => l.startsWith("kernel-result "))
      .map((l) => JSON.parse(l.slice(14)) as unknown);
    if (kernelRows.length)
      return { ok: false, error: `stopped after ${kernelRows.length} kernel timings`, json: { rows: kernelRows }, seconds: (performance.now() - s0) / 1000 };
    const partial = (r.stderr ?? "")
      .split("\n")
      .filter((l) => l.startsWith("bench-step "))
      .map((l) => Number(l.split(" ")[1]));
    if (partial.length)
      return {
        ok: false,
        error: `killed after steps of ${partial.map((v) => v.toFixed(0)).join(", ")} ms`,
        json: { partialStepMs: partial },
        seconds: (performance.now() - s0) / 1000,
      };
    const why =
      r.error && (r.error as NodeJS.ErrnoException).code === "ETIMEDOUT" ? `timed out after ${timeoutS.toFixed(0)} s` : `exit ${r.status ?? r.signal}`;
    return { ok: false, error: `${why}: ${stderrTail}`, seconds };
  }
  try {
    return { ok: true, json: JSON.parse(last), seconds };
  } catch {
    return { ok: false, error: `no JSON result: ${stderrTail}`, seconds };
  }
}

const median = (xs: number[]) => {
  if (xs.length === 0) return undefined;
  const s = xs.slice().sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

function findTorch(python: string | undefined, timeoutS: number): { python?: string; info?: { torch: string; cuda: boolean; device?: string }; why?: string } {
  for (const py of [python, process.env.PYTHON, "python3", "/usr/bin/python3"]) {
    if (!py) continue;
    const r = spawnSync(
      py,
      [
        "-c",
        "import json, torch; c = torch.cuda.is_available(); print(json.dumps({'torch': torch.__version__, 'cuda': c, 'device': torch.cuda.get_device_name(0) if c else None}))",
      ],
      {
        encoding: "utf8",
        timeout: Math.round(timeoutS * 1000),
      },
    );
    if (r.status === 0) {
      const info = JSON.parse(r.stdout.trim().split("\n").pop()!) as { torch: string; cuda: boolean; device?: string };
      return { python: py, info };
    }
  }
  return { why: "no python3 with torch" };
}

async function check(args: Map<string, string>) {
  const budget = Number(args.get("budget") ?? 420); // seconds for all of this; the shell script adds its own setup
  const out = resolve(args.get("out") ?? join(process.env.OUT ?? ".", "gpu-check.json"));
  const result: Record<string, unknown> = {
    startedAt: new Date().toISOString(),
    host: hostname(),
    cpus: `${cpus().length} x ${cpus()[0]?.model ?? "?"}`,
    memoryGiB: +(totalmem() / 2 ** 30).toFixed(1),
    node: process.version,
    diagnostics: args.get("diag") && existsSync(args.get("diag")!) ? readFileSync(args.get("diag")!, "utf8") : undefined,
  };
  const write = () => {
    result.seconds = +elapsed().toFixed(1);
    writeFileSync(out, JSON.stringify(result, null, 2) + "\n");
  };
  const failures: string[] = [];
  result.failures = failures;
  /** A step's time limit: at most `s`, and never past the budget. */
  const limit = (s: number) => Math.max(5, Math.min(s, budget - elapsed() - 5));

  // 1. The adapter: a hardware one, from NVIDIA.
  say("webgpu adapter (hardware only)...");
  const hw = self(["adapter"], { MASSIVE_BACKEND: "webgpu", MASSIVE_WEBGPU_ADAPTER: "hardware" }, limit(60));
  result.adapter = hw.ok ? hw.json : { error: hw.error };
  const adapter = (hw.json as { adapter?: { vendor: string; architecture: string; device: string; description: string; software: boolean } } | undefined)
    ?.adapter;
  const nvidia = adapter && !adapter.software && /nvidia|10de/i.test([adapter.vendor, adapter.architecture, adapter.device, adapter.description].join(" "));
  if (!hw.ok) {
    failures.push(`no hardware WebGPU adapter: ${hw.error}`);
    const any = self(["adapter"], { MASSIVE_BACKEND: "webgpu", MASSIVE_WEBGPU_ADAPTER: "any" }, limit(60));
    result.anyAdapter = any.ok ? any.json : { error: any.error };
  } else if (!nvidia) failures.push(`the hardware adapter is not NVIDIA's: ${JSON.stringify(adapter)}`);
  say(hw.ok ? (hw.json as { describe: string }).describe : `no hardware adapter: ${hw.error}`);
  write();

  // 2. Correctness: the smoke run on webgpu against wasm.
  const data = mkdtempSync(join(tmpdir(), "massive-gpu-check-data-"));
  say("smoke data...");
  const prep = self(["prep", data], {}, limit(60));
  if (!prep.ok) failures.push(`smoke data: ${prep.error}`);
  const gpuEnv = { MASSIVE_BACKEND: "webgpu", MASSIVE_WEBGPU_ADAPTER: hw.ok ? "hardware" : "any" };
  if (prep.ok) {
    say("smoke run on wasm...");
    const wasm = self(["run", data, "10"], { MASSIVE_BACKEND: "wasm" }, limit(150));
    say("smoke run on webgpu...");
    const gpu = self(["run", data, "10"], gpuEnv, limit(150));
    const cmp: Record<string, unknown> = { wasm: wasm.ok ? wasm.json : { error: wasm.error }, webgpu: gpu.ok ? gpu.json : { error: gpu.error } };
    if (wasm.ok && gpu.ok) {
      const a = wasm.json as SmokeRun,
        b = gpu.json as SmokeRun;
      const maxLossDiff = Math.max(...a.losses.map((l, i) => Math.abs(l - b.losses[i])));
      type Item = { idx: number; site: string; numSeen: number; lifespan: number };
      const dec = (m: unknown[]) => JSON.stringify((m as Item[][]).map((s) => s.map((e) => [e.idx, e.site, e.numSeen, e.lifespan])));
      const sameDecisions = dec(a.memory) === dec(b.memory);
      Object.assign(cmp, {
        steps: a.losses.length,
        maxLossDiff,
        sameDecisions,
        pass: a.losses.length === 10 && b.losses.length === 10 && maxLossDiff <= 1e-3 && sameDecisions,
      });
      if (!cmp.pass) failures.push(`webgpu vs wasm: max loss difference ${maxLossDiff}, same memory decisions: ${sameDecisions}`);
      say(`webgpu vs wasm: max loss difference ${maxLossDiff.toExponential(2)}, same memory decisions: ${sameDecisions}`);
    } else failures.push(`smoke run failed: ${wasm.ok ? "" : `wasm: ${wasm.error}`} ${gpu.ok ? "" : `webgpu: ${gpu.error}`}`);
    result.correctness = cmp;
    write();
  }

  // 3. Kernel timings: the kit's webgpu kernels (thread tiles chosen by size) and tfjs's stock ones, on paper-width layer shapes.
  if (hw.ok || args.get("kernels-anyway")) {
    const kernels: Record<string, unknown> = {};
    for (const [name, stock] of [
      ["kit", "0"],
      ["stock", "1"],
    ] as const) {
      say(`kernel timings, ${name} kernels...`);
      const k = self(["kernels", "25"], { ...gpuEnv, MASSIVE_STOCK_KERNELS: stock, MASSIVE_WEBGPU_CONV_TILE: "auto" }, limit(40));
      kernels[name] = k.json ?? { error: k.error };
    }
    result.kernels = kernels;
    write();
  }

  // 4. Where the paper-width step at 96^3 goes, by kernel (GPU time from timestamp queries, which Dawn
  // may offer only with its allow_unsafe_apis toggle), and how many launches it takes.
  if (hw.ok || args.get("kernels-anyway")) {
    say("profile of one paper-width step at 96^3...");
    const p = self(["profile", "paper", "96,96,96"], { ...gpuEnv, MASSIVE_WEBGPU_DAWN_TOGGLES: "allow_unsafe_apis" }, limit(120));
    result.stepProfile = p.ok ? p.json : { error: p.error, seconds: +p.seconds.toFixed(0) };
    write();
  }

  // 5. Timings: PyTorch CUDA first (fast) then webgpu, per net and size, within the remaining budget.
  const torch = findTorch(args.get("python"), limit(60));
  result.torch = torch.info ?? { skipped: torch.why };
  const rows: { net: BenchNet; n: number }[] = [
    { net: "mini", n: 64 },
    { net: "paper", n: 64 },
    { net: "mini", n: 96 },
    { net: "paper", n: 96 },
  ];
  const timings: Record<string, unknown>[] = [];
  result.timings = timings;
  for (const [k, row] of rows.entries()) {
    const roi: [number, number, number] = [row.n, row.n, row.n];
    const gflop = (3 * forwardConvFlops(row.net, roi)) / 1e9;
    const entry: Record<string, unknown> = { net: row.net, roi: roi.join("x"), convGflopPerStep: +gflop.toFixed(2) };
    timings.push(entry);
    const left = budget - elapsed();
    const share = left / (rows.length - k); // what this row may use, torch and webgpu together
    if (share < 10) {
      entry.webgpu = entry.torchCuda = "skipped: out of time";
      continue;
    }
    if (torch.python && torch.info?.cuda) {
      say(`PyTorch CUDA ${row.net} ${roi.join("x")}...`);
      const r = spawnSync(
        torch.python,
        [
          join(kitRoot(), "bench", "torch_bench.py"),
          "--net",
          row.net,
          "--roi",
          roi.join(","),
          "--steps",
          "10",
          "--warmup",
          "3",
          "--device",
          "cuda",
          "--max-seconds",
          String(Math.min(30, share / 3)),
        ],
        {
          encoding: "utf8",
          timeout: Math.round(Math.max(20, share / 2) * 1000),
        },
      );
      if (r.status === 0) {
        const j = JSON.parse(r.stdout.trim().split("\n").pop()!) as { ms: number[]; gpu?: string };
        entry.torchCuda = { medianMs: median(j.ms), ms: j.ms, gpu: j.gpu };
      } else entry.torchCuda = { error: (r.error?.message ?? "") + (r.stderr ?? "").split("\n").slice(-5).join(" ") };
    } else entry.torchCuda = torch.info ? "skipped: torch without CUDA" : `skipped: ${torch.why}`;
    const gpuLeft = budget - elapsed();
    const gpuShare = Math.min(k === rows.length - 1 ? gpuLeft : gpuLeft / (rows.length - k), 240);
    if (gpuShare < 10) {
      entry.webgpu = "skipped: out of time";
      continue;
    }
    say(`webgpu ${row.net} ${roi.join("x")} (up to ${gpuShare.toFixed(0)} s)...`);
    // Timing stops at 60% of the share; the process is killed at the full share.
    const b = self(["bench", row.net, roi.join(","), "5", "2", String((gpuShare * 0.6).toFixed(0))], gpuEnv, gpuShare);
    if (b.ok) {
      const j = b.json as StepBench;
      const med = median(j.ms);
      entry.webgpu = {
        medianMs: med,
        ms: j.ms,
        warmMs: j.warmMs,
        launches: j.launches,
        note: med === undefined ? "only warm-up steps finished in the time (first step includes shader compilation)" : undefined,
      };
    } else entry.webgpu = { error: b.error, seconds: +b.seconds.toFixed(0), ...(b.json as object | undefined) };
    const w = (entry.webgpu as { medianMs?: number }).medianMs,
      t = (entry.torchCuda as { medianMs?: number }).medianMs;
    if (w !== undefined && t !== undefined) entry.webgpuOverTorch = +(w / t).toFixed(2);
    say(`${row.net} ${roi.join("x")}: webgpu ${w?.toFixed(0) ?? "-"} ms, PyTorch CUDA ${t?.toFixed(0) ?? "-"} ms`);
    write();
  }
  // 6. The kit's convolutions with each fixed thread tile (MASSIVE_WEBGPU_CONV_TILE), with what time is left.
  if (hw.ok || args.get("kernels-anyway")) {
    const tiles: Record<string, unknown> = {};
    for (const tile of ["4x4", "8x4", "8x8"]) {
      if (budget - elapsed() < 20) {
        tiles[tile] = "skipped: out of time";
        continue;
      }
      say(`kernel timings, kit kernels with ${tile} thread tiles...`);
      const k = self(["kernels", "25"], { ...gpuEnv, MASSIVE_STOCK_KERNELS: "0", MASSIVE_WEBGPU_CONV_TILE: tile }, limit(40));
      tiles[tile] = k.json ?? { error: k.error };
    }
    result.kernelTiles = tiles;
    write();
  }

  const paper96 = timings.find((t) => t.net === "paper" && t.roi === "96x96x96");
  result.goal = {
    text: "paper-width training step at 96^3 within 3x of PyTorch CUDA on the same GPU",
    ratio: paper96?.webgpuOverTorch,
    met: typeof paper96?.webgpuOverTorch === "number" ? (paper96.webgpuOverTorch as number) <= 3 : undefined,
  };
  result.pass = failures.length === 0;
  write();
  say(`${failures.length ? `FAILED: ${failures.join("; ")}` : "adapter and correctness passed"}; results in ${out}`);
  process.exitCode = failures.length ? 1 : 0;
}

/** Conv3D, Conv3DBackpropInputV2 and Conv3DBackpropFilterV2 on paper-width layers at 96^3 (and one at 24^3). */
function kernelTimings(maxSeconds: number) {
  return convKernelTimings([cubeLayer(96, 1, 32), cubeLayer(96, 32, 64), cubeLayer(96, 64, 64), cubeLayer(24, 128, 256)], maxSeconds);
}

async function main() {
  const [cmd, ...rest] = process.argv.slice(2);
  if (cmd === "check") {
    const opts = new Map<string, string>();
    for (let i = 0; i < rest.length; i += 2) opts.set(rest[i].replace(/^--/, ""), rest[i + 1]);
    await check(opts);
  } else if (cmd === "adapter") {
    const r = await initBackend({ log: () => {} });
    emit(JSON.stringify({ backend: r.backend, adapter: r.adapter, describe: describeBackend(r), notes: r.notes, skipped: r.skipped }));
    if (r.backend !== "webgpu" && env("MASSIVE_BACKEND") === "webgpu") process.exitCode = 1;
  } else if (cmd === "prep") {
    const out = rest[0];
    const raw = mkdtempSync(join(tmpdir(), "massive-gpu-check-raw-"));
    const quiet = () => {};
    runPhantomSet({ out: raw, seed: 11, profile: PROFILES.smoke.phantom!, sites: ["D1", "D2", "D3", "D4", "D5"], log: quiet });
    for (const list of ["stream_train.txt", "stream_test.txt"]) {
      runPrep({
        list: join(raw, list),
        root: raw,
        out,
        spacing: PROFILES.smoke.prepSpacing,
        labelMapping: "template",
        minShape: PROFILES.smoke.roi,
        log: quiet,
      });
    }
    rmSync(raw, { recursive: true, force: true }); // the phantoms' NIfTI files; prep's output is what is used
    emit(JSON.stringify({ data: out }));
  } else if (cmd === "run") {
    emit(JSON.stringify(await smokeRun(rest[0], Number(rest[1] ?? 10))));
  } else if (cmd === "profile") {
    const [net, roiText] = rest;
    if (!(BENCH_NETS as readonly string[]).includes(net)) throw new Error(`gpu-check profile: unknown net "${net}"; choose ${BENCH_NETS.join(", ")}`);
    const roi = parseVec3(roiText ?? "", "roi", "gpu-check profile", true);
    emit(JSON.stringify(await profileStep(net as BenchNet, roi, 2, 1, (line) => process.stderr.write(`${line}\n`))));
  } else if (cmd === "kernels") {
    emit(JSON.stringify(await kernelTimings(Number(rest[0] ?? 25))));
  } else if (cmd === "bench") {
    const [net, roiText, steps, warm, maxS] = rest;
    const roi = roiText.split(",").map(Number) as [number, number, number];
    emit(JSON.stringify(await stepBench(net as BenchNet, roi, Number(steps), Number(warm), Number(maxS))));
  } else {
    console.error(
      "usage: gpu-check check [--out file.json] [--diag file] [--budget s] | adapter | prep <dir> | run <dir> <steps> | kernels <max s> | profile <net> <x,y,z> | bench <net> <x,y,z> <steps> <warm> <max s>",
    );
    process.exitCode = 2;
  }
  if (backendReport()) releaseWebGpu();
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
