/**
 * Where a benchmark net's training step spends its time, by kernel:
 * node dist/bench/profile-step.js [narrow|mini|paper] [x,y,z]. Times 5 steps after 5 warm-up steps, then
 * profiles one step with tf.profile and prints each kernel's launches and summed time, so the step's time
 * outside kernels (op dispatch, JavaScript) is the difference between the two totals.
 */
import * as tf from "@tensorflow/tfjs";
import { describeBackend, initBackend } from "../src/backend.js";
import { makeStepper, type BenchNet } from "./nets.js";

async function main(): Promise<void> {
  const net = (process.argv[2] ?? "mini") as BenchNet;
  if (!["narrow", "mini", "paper"].includes(net)) throw new Error(`profile-step: unknown net "${net}"; choose narrow, mini or paper`);
  const roi = (process.argv[3] ?? (net === "mini" ? "32,32,16" : "32,32,32")).split(",").map(Number) as [number, number, number];
  if (roi.length !== 3 || roi.some((v) => !Number.isInteger(v) || v < 16 || v % 8 !== 0))
    throw new Error(`profile-step: roi must be three multiples of 8, each >= 16, got "${process.argv[3]}"`);
  const report = await initBackend({ log: () => {} });
  console.log(`profile-step: ${net} at ${roi.join("x")}, ${describeBackend(report)}`);
  const s = makeStepper(net, roi);
  try {
    for (let i = 0; i < 5; i++) await s.step();
    const t0 = performance.now();
    for (let i = 0; i < 5; i++) await s.step();
    const stepMs = (performance.now() - t0) / 5;
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
