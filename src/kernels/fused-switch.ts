/**
 * MASSIVE_FUSED_OPS: which of the kit's fused operations run. AdamW's is on by default: it does the op
 * chain's float32 operations in the op chain's order, so its results are the op chain's bit for bit
 * (test/fused-kernels.test.ts) and training does not change. The loss terms and BatchNorm+ReLU are off by
 * default: they compute their op forms to float32 rounding only (other exp/log and summation orders), and
 * whether that changes learning is undecided: with all three on, the mini single-site baseline ended -0.032
 * organ average [-0.079, +0.014] from the op forms, three draws a side against the spread rounding alone
 * makes (bench/replay.ts; docs/benchmarks.md, sessions 21 and 22).
 */
import { env } from "../env.js";

export const FUSED_OPS = ["adamw", "loss", "batchnorm"] as const;
export type FusedOp = (typeof FUSED_OPS)[number];

/** The fused ops that run when MASSIVE_FUSED_OPS is unset: those bit for bit equal to their op forms. */
export const DEFAULT_FUSED_OPS: readonly FusedOp[] = ["adamw"];

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
