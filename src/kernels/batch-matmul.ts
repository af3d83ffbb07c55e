import * as tf from "@tensorflow/tfjs";
import type { TensorInfo, WasmBackendLike } from "./wasm-backend.js";

/**
 * BatchMatMul around three costs of the stock wasm kernel, measured here:
 * - a transposed operand makes it ~10x slower (1.8 vs 21 GFLOP/s): transpose explicitly, multiply plainly;
 * - XNNPACK packs the second operand on every call at ~10 ns a float (a [16384, 256] second operand cost
 *   40 ms for a 4 ms product): when the first operand is much smaller, compute C^T = B^T A^T instead;
 * - batched products (batch > 1) run a plain loop at ~1.5 GFLOP/s: when each batch's second operand is
 *   small, run one XNNPACK product per batch item instead.
 * Other shapes (broadcast batch dimensions) go to the stock kernel.
 */
export function fastBatchMatMul(): tf.KernelConfig {
  const stockConfig = tf.getKernel("BatchMatMul", "wasm")!;
  const stock = stockConfig.kernelFunc;

  return {
    kernelName: "BatchMatMul",
    backendName: "wasm",
    setupFunc: stockConfig.setupFunc, // binds the wasm function the stock kernel calls
    kernelFunc: (args) => {
      const { a, b } = args.inputs as { a: TensorInfo; b: TensorInfo };
      const attrs = args.attrs as unknown as { transposeA: boolean; transposeB: boolean };
      const backend = args.backend as unknown as WasmBackendLike;
      const temps: TensorInfo[] = [];
      const plain = (x: TensorInfo, y: TensorInfo) =>
        stock({ inputs: { a: x, b: y } as never, backend: args.backend, attrs: { ...args.attrs, transposeA: false, transposeB: false } as never }) as TensorInfo;
      const swapLast = (t: TensorInfo) => {
        const perm = t.shape.map((_, i) => i);
        [perm[perm.length - 2], perm[perm.length - 1]] = [perm[perm.length - 1], perm[perm.length - 2]];
        // Looked up per call: the kit's own Transpose (copy-kernels.ts) is registered after this kernel.
        const out = tf.getKernel("Transpose", "wasm")!.kernelFunc({ inputs: { x: t } as never, backend: args.backend, attrs: { perm } as never }) as TensorInfo;
        temps.push(out);
        return out;
      };
      const free = () => temps.forEach((t) => backend.disposeData(t.dataId, true));
      const r = a.shape.length;
      const batchA = a.shape.slice(0, -2), batchB = b.shape.slice(0, -2);
      const sameBatch = batchA.length === batchB.length && batchA.every((d, i) => d === batchB[i]);
      if (!sameBatch || a.dtype !== "float32" || b.dtype !== "float32") {
        // Stock path, transposes made explicit.
        const out = plain(attrs.transposeA ? swapLast(a) : a, attrs.transposeB ? swapLast(b) : b);
        free();
        return out;
      }
      const [M, K] = attrs.transposeA ? [a.shape[r - 1], a.shape[r - 2]] : [a.shape[r - 2], a.shape[r - 1]];
      const N = attrs.transposeB ? b.shape[r - 2] : b.shape[r - 1];
      const batch = batchA.reduce((x, y) => x * y, 1);
      const outShape = [...batchA, M, N];
      if (batch === 1) {
        // Relative costs per float: packing ~10, transposing ~6.5 (both measured on this machine).
        const direct = (attrs.transposeA ? 6.5 * M * K : 0) + (attrs.transposeB ? 6.5 * K * N : 0) + 10 * K * N;
        const swapped = (attrs.transposeB ? 0 : 6.5 * K * N) + (attrs.transposeA ? 0 : 6.5 * K * M) + 10 * K * M + 6.5 * M * N;
        if (!attrs.transposeA && !attrs.transposeB && direct <= swapped) return stock(args);
        if (direct <= swapped) {
          const out = plain(attrs.transposeA ? swapLast(a) : a, attrs.transposeB ? swapLast(b) : b);
          free();
          return out;
        }
        // C^T = op(B)^T op(A)^T: op(B)^T is b itself when transposed, else b transposed (same for a).
        const bt = attrs.transposeB ? b : swapLast(b);
        const at = attrs.transposeA ? a : swapLast(a);
        const ct = plain(bt, at); // [.., N, M]
        temps.push(ct);
        const c = swapLast(ct);
        temps.pop(); // c is the result, not a temporary
        free();
        return { ...c, shape: outShape } as never;
      }
      if (attrs.transposeA || K * N > 65536) {
        const out = plain(attrs.transposeA ? swapLast(a) : a, attrs.transposeB ? swapLast(b) : b);
        free();
        return out;
      }
      // One XNNPACK product per batch item (each second operand is small to pack).
      const bPlain = attrs.transposeB ? swapLast(b) : b;
      const out = backend.makeOutput(outShape, "float32");
      for (let i = 0; i < batch; i++) {
        const ai = backend.makeOutput([M, K], "float32");
        const bi = backend.makeOutput([K, N], "float32");
        (backend.typedArrayFromHeap(ai) as Float32Array).set((backend.typedArrayFromHeap(a) as Float32Array).subarray(i * M * K, (i + 1) * M * K));
        (backend.typedArrayFromHeap(bi) as Float32Array).set((backend.typedArrayFromHeap(bPlain) as Float32Array).subarray(i * K * N, (i + 1) * K * N));
        const ci = plain(ai, bi);
        (backend.typedArrayFromHeap(out) as Float32Array).set(backend.typedArrayFromHeap(ci) as Float32Array, i * M * N);
        [ai, bi, ci].forEach((t) => backend.disposeData(t.dataId, true));
      }
      free();
      return out as never;
    },
  };
}

