/**
 * One benchmark measurement in its own process (kernels are chosen at start-up):
 * node dist/bench/step-bench.js <net> <x,y,z> <steps> [warm-up steps]; MASSIVE_STOCK_KERNELS=1 for
 * tfjs's own kernels. Prints one JSON line with the per-step times after the warm-up (default 3 steps:
 * V8 compiles the loops and the convolution worker starts during the first few).
 */
import { initBackend } from "../src/backend.js";
import { makeStepper, nanSteps, type BenchNet } from "./nets.js";

async function main() {
  const [net, roiText, stepsText, warmText] = process.argv.slice(2);
  const warm = Number(warmText ?? 3);
  const roi = roiText.split(",").map(Number) as [number, number, number];
  const steps = Number(stepsText);
  const report = await initBackend({ log: () => {} });
  const s = makeStepper(net as BenchNet, roi);
  const ms: number[] = [];
  for (let i = 0; i < warm + steps; i++) {
    const t0 = performance.now();
    await s.step();
    if (i >= warm) ms.push(performance.now() - t0);
  }
  s.dispose();
  console.log(JSON.stringify({ net, ms, backend: report.backend, notes: report.notes, nanSteps }));
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
