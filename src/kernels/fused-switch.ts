/**
 * MASSIVE_FUSED_OPS: which of the kit's fused operations run. AdamW's update and BatchNorm+ReLU are on by
 * default: they do their op forms' float32 operations in the op forms' order (sums in row order, the very
 * tf ops for the per-channel steps), so their results are the op forms' bit for bit
 * (test/fused-kernels.test.ts) and a replayed training run ends on the same losses and scores
 * (docs/benchmarks.md, session 23). On webgpu the same two halve the launches of a step; there neither
 * form is the wasm run's bit for bit (tfjs's webgpu reductions sum in their own order too). The loss terms
 * are off by default: they use their own exp and log and sum in float64, so they match the op form to
 * rounding only, and whether that changes learning is undecided (an earlier, rounding-level version of
 * all three: -0.032 organ average [-0.079, +0.014] against the op forms, bench/replay.ts;
 * docs/benchmarks.md, sessions 21 and 22).
 */
import { env } from "../env.js";

export const FUSED_OPS = ["adamw", "loss", "batchnorm"] as const;
export type FusedOp = (typeof FUSED_OPS)[number];

/** The fused ops that run when MASSIVE_FUSED_OPS is unset: those bit for bit equal to their op forms. */
export const DEFAULT_FUSED_OPS: readonly FusedOp[] = ["adamw", "batchnorm"];

/** The ops a value of MASSIVE_FUSED_OPS names: unset the default; "0" none; "all" every one; else a comma list of FUSED_OPS. */
function parse(v: string | undefined): ReadonlySet<string> {
  if (v === undefined) return new Set(DEFAULT_FUSED_OPS);
  if (v === "0") return new Set();
  if (v === "all") return new Set(FUSED_OPS);
  const names = v.split(",").map((s) => s.trim());
  const unknown = names.filter((n) => !(FUSED_OPS as readonly string[]).includes(n));
  if (unknown.length) throw new Error(`MASSIVE_FUSED_OPS must be 0, all, or a comma list of ${FUSED_OPS.join(", ")}; got "${v}"`);
  return new Set(names);
}

// Asked for every layer of every forward pass: parse a value once. Read anew each call (not once at start)
// so that tests and bench/replay.ts can switch it within one process.
let last: { value: string | undefined; ops: ReadonlySet<string> } | undefined;

export function fusedOpEnabled(op: FusedOp): boolean {
  const value = env("MASSIVE_FUSED_OPS");
  if (!last || last.value !== value) last = { value, ops: parse(value) };
  return last.ops.has(op);
}

/** The fused ops the current MASSIVE_FUSED_OPS switches on, in FUSED_OPS's order (for the backend line). */
export function enabledFusedOps(): FusedOp[] {
  return FUSED_OPS.filter(fusedOpEnabled);
}
