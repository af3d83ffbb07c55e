/** The row-copy slice shared by the Slice and SplitV kernels. */
import { planSlice, runSlicePlan } from "../slice-plan.js";
import { wasmColumns, type TensorInfo, type WasmBackendLike } from "./wasm-backend.js";

/** x[begin : begin + size] as a new tensor, in a few row copies (see slice-plan.ts); 4-byte dtypes. */
export function fastSlice(backend: WasmBackendLike, x: TensorInfo, begin: number[], size: number[]): TensorInfo {
  const out = backend.makeOutput(size, x.dtype);
  const plan = planSlice(x.shape, begin, size);
  const fast = wasmColumns(backend);
  const xv = backend.typedArrayFromHeap(x);
  const ov = backend.typedArrayFromHeap(out);
  if (fast) {
    const [xp, op] = [xv.byteOffset, ov.byteOffset];
    runSlicePlan(plan, (d, s, rows, len, ds, ss) => fast.copyRows(op + 4 * d, xp + 4 * s, rows, 4 * len, 4 * ds, 4 * ss));
  } else {
    runSlicePlan(plan, (d, s, rows, len, ds, ss) => {
      for (let r = 0; r < rows; r++) ov.set(xv.subarray(s + r * ss, s + r * ss + len), d + r * ds);
    });
  }
  return out;
}
