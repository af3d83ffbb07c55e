import * as tf from "@tensorflow/tfjs";
import { wasmKernelOf, wasmKernel, type TypedKernel, type TensorInfo } from "./wasm-backend.js";

type MatMulInputs = { a: TensorInfo; b: TensorInfo };
type BatchMatMulKernel = TypedKernel<MatMulInputs, tf.BatchMatMulAttrs>;

/** Measured here (ns a float): XNNPACK packing its second operand, and the kit's Transpose kernel. */
const PACK_COST = 10;
const TRANSPOSE_COST = 1.6;

/**
 * BatchMatMul around three costs of the stock wasm kernel, measured here:
 * - a transposed operand makes it ~10x slower (1.8 vs 21 GFLOP/s): transpose explicitly, multiply plainly;
 * - XNNPACK packs the second operand on every call (PACK_COST: a [16384, 256] second operand cost 40 ms
 *   for a 4 ms product): when that costs more than transposing, compute C^T = op(B)^T op(A)^T instead;
 * - batched products (batch > 1) run a plain loop at ~1.5 GFLOP/s: when each batch's second operand is
 *   small, run one XNNPACK product per batch item instead.
 * Other shapes (broadcast batch dimensions, other dtypes) go to the stock kernel, transposes made explicit.
 */
export function batchMatMulConfig(stockConfig: BatchMatMulKernel): tf.KernelConfig {
  const stock = stockConfig.kernelFunc;
  return wasmKernel<MatMulInputs, tf.BatchMatMulAttrs>(
    tf.BatchMatMul,
    (args) => {
      const { a, b } = args.inputs;
      const { transposeA: tA, transposeB: tB } = args.attrs;
      const { backend } = args;
      const temps: TensorInfo[] = [];
      const keep = (t: TensorInfo) => (temps.push(t), t);
      const plain = (x: TensorInfo, y: TensorInfo) =>
        stock({ inputs: { a: x, b: y }, backend, attrs: { ...args.attrs, transposeA: false, transposeB: false } }) as TensorInfo;
      const swapLast = (t: TensorInfo) => {
        const perm = t.shape.map((_, i) => i);
        [perm[perm.length - 2], perm[perm.length - 1]] = [perm[perm.length - 1], perm[perm.length - 2]];
        // Looked up per call: the kit's own Transpose (Transpose.ts) is registered after this kernel.
        return wasmKernelOf<{ x: TensorInfo }, tf.TransposeAttrs>(tf.Transpose).kernelFunc({ inputs: { x: t }, backend, attrs: { perm } }) as TensorInfo;
      };
      const result = compute();
      temps.forEach((t) => backend.disposeData(t.dataId, true));
      return result;

      function compute(): TensorInfo {
        const explicit = () => plain(tA ? keep(swapLast(a)) : a, tB ? keep(swapLast(b)) : b);
        const r = a.shape.length;
        const batchDims = a.shape.slice(0, -2);
        const sameBatch = batchDims.length === b.shape.length - 2 && batchDims.every((d, i) => d === b.shape[i]);
        if (!sameBatch || a.dtype !== "float32" || b.dtype !== "float32") return explicit();
        const [M, K] = tA ? [a.shape[r - 1], a.shape[r - 2]] : [a.shape[r - 2], a.shape[r - 1]];
        const N = tB ? b.shape[r - 2] : b.shape[r - 1];
        const batch = batchDims.reduce((x, y) => x * y, 1);
        const outShape = [...batchDims, M, N];
        if (batch === 1) {
          const direct = (tA ? TRANSPOSE_COST * M * K : 0) + (tB ? TRANSPOSE_COST * K * N : 0) + PACK_COST * K * N;
          const swapped = (tB ? 0 : TRANSPOSE_COST * K * N) + (tA ? 0 : TRANSPOSE_COST * K * M) + PACK_COST * K * M + TRANSPOSE_COST * M * N;
          if (direct <= swapped) return explicit();
          // op(B)^T is b itself when transposed, else b transposed (same for a); the result is transposed back.
          const ct = keep(plain(tB ? b : keep(swapLast(b)), tA ? a : keep(swapLast(a)))); // [.., N, M]
          return { ...swapLast(ct), shape: outShape };
        }
        if (tA || K * N > 65536) return explicit();
        // One XNNPACK product per batch item (each second operand is small to pack).
        const bPlain = tB ? keep(swapLast(b)) : b;
        const out = backend.makeOutput(outShape, "float32");
        const heap = (t: TensorInfo) => backend.typedArrayFromHeap(t) as Float32Array;
        for (let i = 0; i < batch; i++) {
          const ai = keep(backend.makeOutput([M, K], "float32"));
          const bi = keep(backend.makeOutput([K, N], "float32"));
          heap(ai).set(heap(a).subarray(i * M * K, (i + 1) * M * K));
          heap(bi).set(heap(bPlain).subarray(i * K * N, (i + 1) * K * N));
          const ci = keep(plain(ai, bi)); // first: the product may grow the heap and detach older views
          heap(out).set(heap(ci), i * M * N);
        }
        return out;
      }
    },
    stockConfig.setupFunc, // binds the wasm function the stock kernel calls
  );
}
