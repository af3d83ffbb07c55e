/**
 * One benchmark measurement in its own process (kernels are chosen at start-up):
 * node dist/bench/step-bench.js <net> <x,y,z> <steps> [warm-up steps] [max seconds]; MASSIVE_STOCK_KERNELS=1
 * for tfjs's own kernels, MASSIVE_BACKEND for the backend. Prints one JSON line with the per-step times
 * after the warm-up (default 3 steps: V8 compiles the loops, the convolution worker starts, and on
 * webgpu the shaders compile during the first few). With max seconds, stops timing once that much time
 * has passed (after at least one timed step).
 */
import { backendReport, describeAdapter, describeBackend, initBackend, releaseWebGpu } from "../src/backend.js";
import { countDispatches, hostMicrosPerDispatch } from "./dispatch-count.js";
import { makeStepper, nanSteps, type BenchNet } from "./nets.js";

export interface StepBench {
  net: string;
  roi: number[];
  ms: number[];
  warmMs: number[];
  backend: string;
  /** webgpu: the adapter, e.g. "software adapter llvmpipe ..." or "hardware GPU nvidia ...". */
  adapter?: string;
  describe: string;
  notes: string[];
  nanSteps: number;
  /** webgpu: GPU programs one step runs, and the host's time to launch one (small) program. */
  launches?: { perStep: number; hostMicrosEach: number; hostMsPerStep: number };
}

export async function stepBench(net: BenchNet, roi: [number, number, number], steps: number, warm = 3, maxSeconds = 0): Promise<StepBench> {
  const report = await initBackend({ log: () => {} });
  const s = makeStepper(net, roi);
  const ms: number[] = [];
  const warmMs: number[] = [];
  const start = performance.now();
  for (let i = 0; i < warm + steps; i++) {
    const t0 = performance.now();
    await s.step();
    const dt = performance.now() - t0;
    (i >= warm ? ms : warmMs).push(dt);
    process.stderr.write(`bench-step ${dt.toFixed(1)}\n`); // a caller that kills this process still sees the steps done
    if (maxSeconds > 0 && performance.now() - start > maxSeconds * 1000) break; // ms may stay empty: warm-up used the time
  }
  let launches: StepBench["launches"];
  if (report.backend === "webgpu") {
    // One more step, counted: launches x host cost is the step's floor however fast the GPU is.
    const perStep = (await countDispatches(() => s.step())).dispatches;
    const hostMicrosEach = await hostMicrosPerDispatch();
    launches = { perStep, hostMicrosEach: +hostMicrosEach.toFixed(1), hostMsPerStep: +((perStep * hostMicrosEach) / 1000).toFixed(1) };
    process.stderr.write(`bench-launches ${JSON.stringify(launches)}\n`);
  }
  s.dispose();
  return {
    net,
    roi,
    ms,
    warmMs,
    backend: report.backend,
    adapter: report.adapter && describeAdapter(report.adapter),
    describe: describeBackend(backendReport() ?? report),
    notes: report.notes,
    nanSteps,
    launches,
  };
}

if (/step-bench\.js$/.test(process.argv[1] ?? "")) {
  const [net, roiText, stepsText, warmText, maxText] = process.argv.slice(2);
  const roi = roiText.split(",").map(Number) as [number, number, number];
  stepBench(net as BenchNet, roi, Number(stepsText), Number(warmText ?? 3), Number(maxText ?? 0))
    .then((r) => {
      console.log(JSON.stringify(r));
      releaseWebGpu();
    })
    .catch((e) => {
      console.error(e);
      process.exit(1);
    });
}
