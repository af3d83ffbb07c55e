/**
 * Where a benchmark net's training step spends its time, by kernel:
 * node dist/bench/profile-step.js [narrow|mini|paper] [x,y,z] (default: the bench's input). Times 5 steps
 * after 5 warm-up steps (each reported on stderr), then profiles one step with tf.profile and prints each
 * kernel's launches and summed time; the step's time outside kernels (op dispatch, JavaScript) is the
 * difference between the two totals. On webgpu kernel times need the adapter's timestamp queries (the GPU
 * check sets MASSIVE_WEBGPU_DAWN_TOGGLES=allow_unsafe_apis for them); without, only launches are counted.
 */
import * as tf from "@tensorflow/tfjs";
import { describeBackend, initBackend, releaseWebGpu } from "../src/backend.js";
import { parseVec3 } from "../src/cli/args.js";
import { countDispatches } from "./dispatch-count.js";
import { BENCH_NETS, BENCH_ROI, makeStepper, type BenchNet } from "./nets.js";

export interface StepProfile {
  net: BenchNet;
  roi: number[];
  backend: string;
  /** Mean of the timed steps. */
  stepMs: number;
  /** Whether the backend timed kernels (false: webgpu without timestamp queries; ms are then 0). */
  kernelTimes: boolean;
  /** tfjs kernels the step ran (views such as Reshape and Identity included). */
  launches: number;
  /** webgpu: GPU programs the step ran. */
  programs?: number;
  kernelMs: number;
  /** By kernel, most time first (most launches first without kernel times). */
  kernels: { name: string; launches: number; ms: number }[];
}

export async function profileStep(net: BenchNet, roi: [number, number, number], warm = 5, timed = 5, log = (_: string) => {}): Promise<StepProfile> {
  // The U-Net pools three times: every side must halve to whole voxels.
  if (roi.some((v) => v < 16 || v % 8 !== 0)) throw new Error(`profile-step: each side of the roi must be a multiple of 8 and >= 16, got ${roi.join(",")}`);
  const report = await initBackend({ log: () => {} });
  const s = makeStepper(net, roi);
  try {
    const times: number[] = [];
    for (let i = 0; i < warm + timed; i++) {
      const t0 = performance.now();
      await s.step();
      times.push(performance.now() - t0);
      // The paper-width net takes seconds a step: show where it is.
      log(`profile-step: ${i < warm ? "warm-up" : "timed"} step ${i + 1}/${warm + timed} ${times[i].toFixed(0)} ms`);
    }
    const stepMs = times.slice(warm).reduce((a, b) => a + b, 0) / Math.max(1, timed);
    const profiled = () =>
      tf.profile(async () => {
        await s.step();
      });
    let programs: number | undefined;
    let info: Awaited<ReturnType<typeof profiled>>;
    if (report.backend === "webgpu") ({ result: info, dispatches: programs } = await countDispatches(profiled));
    else info = await profiled();
    const byKernel = new Map<string, { launches: number; ms: number }>();
    for (const k of info.kernels) {
      const e = byKernel.get(k.name) ?? { launches: 0, ms: 0 };
      e.launches++;
      e.ms += typeof k.kernelTimeMs === "number" ? k.kernelTimeMs : 0;
      byKernel.set(k.name, e);
    }
    const kernels = [...byKernel].map(([name, e]) => ({ name, launches: e.launches, ms: +e.ms.toFixed(2) }));
    const kernelMs = kernels.reduce((t, e) => t + e.ms, 0);
    kernels.sort((a, b) => b.ms - a.ms || b.launches - a.launches);
    return {
      net,
      roi,
      backend: describeBackend(report),
      stepMs: +stepMs.toFixed(1),
      kernelTimes: kernelMs > 0,
      launches: info.kernels.length,
      programs,
      kernelMs: +kernelMs.toFixed(1),
      kernels,
    };
  } finally {
    s.dispose();
  }
}

if (/profile-step\.js$/.test(process.argv[1] ?? "")) {
  const net = (process.argv[2] ?? "mini") as BenchNet;
  if (!BENCH_NETS.includes(net)) {
    console.error(`profile-step: unknown net "${net}"; choose ${BENCH_NETS.join(", ")}`);
    process.exit(2);
  }
  const roi = process.argv[3] === undefined ? BENCH_ROI[net] : parseVec3(process.argv[3], "roi", "profile-step", true);
  profileStep(net, roi, 5, 5, (line) => process.stderr.write(`${line}\n`))
    .then((p) => {
      console.log(`profile-step: ${net} at ${roi.join("x")}, ${p.backend}`);
      console.log(
        `step ${p.stepMs} ms (mean of 5); kernels ${p.kernelTimes ? `${p.kernelMs} ms` : "not timed by this backend"} in ${p.launches} launches${p.programs === undefined ? "" : ` (${p.programs} GPU programs)`} (one profiled step)`,
      );
      console.log(`${"kernel".padEnd(28)} launches      ms`);
      for (const e of p.kernels.filter((e) => e.ms >= 0.5 || !p.kernelTimes).slice(0, 40))
        console.log(`${e.name.padEnd(28)} ${String(e.launches).padStart(8)} ${e.ms.toFixed(1).padStart(7)}`);
      releaseWebGpu();
    })
    .catch((e) => {
      console.error(e instanceof Error ? e.message : e);
      process.exit(1);
    });
}
