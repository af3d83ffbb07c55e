/**
 * Where a benchmark net's training step spends its time, by kernel:
 * node dist/bench/profile-step.js [narrow|mini|paper] [x,y,z] (default: the bench's input). Times 5 steps
 * after 5 warm-up steps (each reported on stderr), then profiles one step with tf.profile and prints each
 * kernel's launches and summed time; the step's time outside kernels (op dispatch, JavaScript) is the
 * difference between the two totals.
 */
import * as tf from "@tensorflow/tfjs";
import { describeBackend, initBackend } from "../src/backend.js";
import { parseVec3 } from "../src/cli/args.js";
import { BENCH_NETS, BENCH_ROI, makeStepper, type BenchNet } from "./nets.js";

async function main(): Promise<void> {
  const net = (process.argv[2] ?? "mini") as BenchNet;
  if (!BENCH_NETS.includes(net)) throw new Error(`profile-step: unknown net "${net}"; choose ${BENCH_NETS.join(", ")}`);
  const roi = process.argv[3] === undefined ? BENCH_ROI[net] : parseVec3(process.argv[3], "roi", "profile-step", true);
  // The U-Net pools three times: every side must halve to whole voxels.
  if (roi.some((v) => v < 16 || v % 8 !== 0)) throw new Error(`profile-step: each side of the roi must be a multiple of 8 and >= 16, got ${roi.join(",")}`);
  const report = await initBackend({ log: () => {} });
  console.log(`profile-step: ${net} at ${roi.join("x")}, ${describeBackend(report)}`);
  const s = makeStepper(net, roi);
  try {
    const times: number[] = [];
    for (let i = 0; i < 10; i++) {
      const t0 = performance.now();
      await s.step();
      times.push(performance.now() - t0);
      // The paper-width net takes seconds a step: show where it is.
      process.stderr.write(`profile-step: ${i < 5 ? "warm-up" : "timed"} step ${i + 1}/10 ${times[i].toFixed(0)} ms\n`);
    }
    const stepMs = times.slice(5).reduce((a, b) => a + b, 0) / 5;
    const info = await tf.profile(async () => {
      await s.step();
    });
    const byKernel = new Map<string, { launches: number; ms: number }>();
    for (const k of info.kernels) {
      const e = byKernel.get(k.name) ?? { launches: 0, ms: 0 };
      e.launches++;
      e.ms += typeof k.kernelTimeMs === "number" ? k.kernelTimeMs : 0;
      byKernel.set(k.name, e);
    }
    const rows = [...byKernel].sort((a, b) => b[1].ms - a[1].ms);
    const kernelMs = rows.reduce((t, [, e]) => t + e.ms, 0);
    console.log(`step ${stepMs.toFixed(1)} ms (mean of 5); kernels ${kernelMs.toFixed(1)} ms in ${info.kernels.length} launches (one profiled step)`);
    console.log(`${"kernel".padEnd(28)} launches      ms`);
    for (const [name, e] of rows.filter(([, e]) => e.ms >= 0.5))
      console.log(`${name.padEnd(28)} ${String(e.launches).padStart(8)} ${e.ms.toFixed(1).padStart(7)}`);
  } finally {
    s.dispose();
  }
}

main().catch((e) => {
  console.error(e instanceof Error ? e.message : e);
  process.exit(1);
});
