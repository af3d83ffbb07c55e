/**
 * MASSIVE_FUSED_OPS: which of the kit's fused operations run. They are off by default: each computes what
 * its op form does to float32 rounding (test/fused-kernels.test.ts), yet with all three on, one run a seed
 * of the mini single-site baseline ended lower than the op forms in five seeds of five. Measured against the
 * spread rounding alone makes (three draws a side, bench/replay.ts), the difference is undecided, -0.032
 * organ average [-0.079, +0.014] (docs/benchmarks.md, sessions 21 and 22): not cleared, so not the default.
 */
import { env } from "../env.js";

export const FUSED_OPS = ["adamw", "loss", "batchnorm"] as const;
export type FusedOp = (typeof FUSED_OPS)[number];

/** The ops a value of MASSIVE_FUSED_OPS names: unset or "0" none; "all" every one; else a comma list of FUSED_OPS. */
function parse(v: string | undefined): ReadonlySet<string> {
  if (v === undefined || v === "0") return new Set();
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
