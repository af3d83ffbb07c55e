/**
 * A strided slice as few, long copies: adjacent axes merge when the inner one is taken whole, so e.g.
 * splitting [1, 32, 32, 32, 16] into channels 0-7 and 8-15 becomes one walk of 32768 rows of 8 floats.
 * (tfjs-backend-wasm slices rank-5 tensors element by element through generic index arithmetic, which
 * made the gradient of a channel concat take ~40% of a U-Net training step.) Pure: no tfjs.
 */
export interface SlicePlan {
  /** Outer loops (row-major) over which `rows` rows are copied: counts and input strides, in elements. */
  outerCounts: number[];
  outerStrides: number[];
  rows: number;
  rowStride: number;
  /** Elements per row, contiguous in both input and output. */
  rowLength: number;
  /** Element offset of the first copied element in the input. */
  start: number;
}

export function planSlice(shape: readonly number[], begin: readonly number[], size: readonly number[]): SlicePlan {
  if (shape.length !== begin.length || shape.length !== size.length) throw new Error(`slice: rank mismatch (${shape}, ${begin}, ${size})`);
  shape.forEach((d, i) => {
    if (begin[i] < 0 || size[i] < 0 || begin[i] + size[i] > d) throw new Error(`slice: [${begin}] + [${size}] outside shape [${shape}]`);
  });
  // Merge axis i+1 into axis i while axis i+1 is taken whole (right to left).
  const s = [shape[shape.length - 1] ?? 1];
  const b = [begin[begin.length - 1] ?? 0];
  const z = [size[size.length - 1] ?? 1];
  for (let i = shape.length - 2; i >= 0; i--) {
    if (z[0] === s[0]) {
      b[0] = begin[i] * s[0] + b[0];
      z[0] = size[i] * s[0];
      s[0] = shape[i] * s[0];
    } else {
      s.unshift(shape[i]);
      b.unshift(begin[i]);
      z.unshift(size[i]);
    }
  }
  const strides = s.map((_, i) => s.slice(i + 1).reduce((p, d) => p * d, 1));
  const start = b.reduce((acc, bi, i) => acc + bi * strides[i], 0);
  const r = s.length;
  if (r === 1) return { outerCounts: [], outerStrides: [], rows: 1, rowStride: 0, rowLength: z[0], start };
  return {
    outerCounts: z.slice(0, r - 2),
    outerStrides: strides.slice(0, r - 2),
    rows: z[r - 2],
    rowStride: strides[r - 2],
    rowLength: z[r - 1],
    start,
  };
}

/** Runs a plan: copyRows(dstOffset, srcOffset, rows, rowLength, dstStride, srcStride), offsets in elements. */
export function runSlicePlan(
  plan: SlicePlan,
  copyRows: (dst: number, src: number, rows: number, rowLength: number, dstStride: number, srcStride: number) => void,
): void {
  const { outerCounts, outerStrides, rows, rowStride, rowLength } = plan;
  if (rows * rowLength === 0 || outerCounts.some((c) => c === 0)) return;
  const idx = outerCounts.map(() => 0);
  let dst = 0;
  for (;;) {
    let src = plan.start;
    for (let i = 0; i < idx.length; i++) src += idx[i] * outerStrides[i];
    copyRows(dst, src, rows, rowLength, rowLength, rowStride);
    dst += rows * rowLength;
    let a = idx.length - 1;
    while (a >= 0 && ++idx[a] === outerCounts[a]) idx[a--] = 0;
    if (a < 0) return;
  }
}
