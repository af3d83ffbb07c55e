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

/** Unset or "0": none; "all": every one; else a comma list of FUSED_OPS. */
export function fusedOpEnabled(op: FusedOp): boolean {
  const v = env("MASSIVE_FUSED_OPS");
  if (v === undefined || v === "0") return false;
  if (v === "all") return true;
  const names = v.split(",").map((s) => s.trim());
  const unknown = names.filter((n) => !(FUSED_OPS as readonly string[]).includes(n));
  if (unknown.length) throw new Error(`MASSIVE_FUSED_OPS must be 0, all, or a comma list of ${FUSED_OPS.join(", ")}; got "${v}"`);
  return names.includes(op);
}
