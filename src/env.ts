/**
 * Every MASSIVE_* environment variable the kit reads, with its meaning and default (tfjs's flags file).
 * Code reads them through `env(name)`, never `process.env` directly, so that this table is the whole list.
 */
export const ENV_VARS = {
  MASSIVE_BACKEND: {
    meaning: "force a tfjs backend: tensorflow, webgpu, wasm or cpu",
    default: "the first that starts: tensorflow (only on a GPU), webgpu (hardware adapter), wasm, cpu",
  },
  MASSIVE_WEBGPU_ADAPTER: { meaning: "which WebGPU adapter webgpu may use: hardware, software or any", default: "hardware" },
  MASSIVE_WEBGPU_DAWN_TOGGLES: {
    meaning:
      "Dawn toggles for webgpu, comma separated, as the webgpu package's create() takes them (e.g. allow_unsafe_apis, which the GPU check's step profile sets for timestamp queries)",
    default: "none",
  },
  MASSIVE_WEBGPU_CONV_TILE: {
    meaning: "outputs per thread of the kit's WGSL Conv3D and input gradient: auto, 4x4, 8x4 or 8x8 (the GPU check times each)",
    default: "auto: 8x8 for 128 or more output channels (where the device has the workgroup memory), else 8x4",
  },
  MASSIVE_STOCK_KERNELS: { meaning: "1: use tfjs's own kernels instead of the kit's (benchmarks only; the stock wasm gradients are wrong)", default: "0" },
  MASSIVE_CONV_THREADS: {
    meaning: "1: no convolution worker thread (the wasm convolutions use one core)",
    default: "2 threads when dist/src/kernels/conv-worker.js is built",
  },
  MASSIVE_FUSED_HEADS: {
    meaning: "0: run the Universal Model heads as separate tf ops instead of the fused heads.wasm kernel (benchmarks and cross-checks)",
    default: "fused on the wasm and cpu backends when dist/src/kernels/heads.wasm is built",
  },
  MASSIVE_FUSED_OPS: {
    meaning:
      "the kit's fused kernels for AdamW, the loss's Dice and BCE terms (wasm) and BatchNorm+ReLU (AdamW and BatchNorm on webgpu too): 0 (none), all, or a comma list of adamw, loss, batchnorm. On wasm AdamW's and BatchNorm's equal their op forms bit for bit; the loss's differs by rounding, and whether that changes learning is undecided (docs/benchmarks.md)",
    default: "adamw,batchnorm",
  },
  MASSIVE_PROFILE: { meaning: "the profile a notebook runs: smoke or mini", default: "mini" },
  MASSIVE_WORK: { meaning: "folder for generated data, runs and caches (<folder>/<profile>)", default: "work/<profile> in the kit" },
  MASSIVE_FIGURES: { meaning: "folder the notebooks write tables, figures and provenance to", default: "figures/ (mini), work/<profile>/figures (others)" },
  MASSIVE_RESULTS: {
    meaning: "folder of the per-run results (one small JSON per run)",
    default: "results/mini for the mini profile, <work>/results otherwise",
  },
  MASSIVE_HOME: {
    meaning: "the kit's folder, when it cannot be found from the working directory or the script",
    default: "found from the working directory, then the running script",
  },
  MASSIVE_CHROMIUM: { meaning: "the Chromium binary for PNG/SVG figure export; none: never start a browser", default: "/usr/bin/chromium and similar" },
  MASSIVE_DEBUG: { meaning: "1: print stack traces with errors", default: "unset" },
} as const satisfies Record<string, { meaning: string; default: string }>;

export type EnvName = keyof typeof ENV_VARS;

/** The variable's value; unset and empty both read as undefined. */
export function env(name: EnvName): string | undefined {
  const v = process.env[name];
  return v === undefined || v === "" ? undefined : v;
}
