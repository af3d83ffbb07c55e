/**
 * 3D convolution and its two gradients as im2col/col2im around one matrix product, blocked over lines of
 * output voxels so the column buffer stays in cache. Independent of any backend: the caller supplies the buffers
 * and the matrix product (see wasm/arena.ts, which plugs in XNNPACK through the wasm backend).
 *
 * Layouts (tfjs): x [B, D, H, W, Cin], filter [fd, fh, fw, Cin, Cout] (= a [K, Cout] matrix with
 * K = fd*fh*fw*Cin), y [B, oD, oH, oW, Cout].
 */
export interface ConvGeometry {
  batch: number;
  inD: number;
  inH: number;
  inW: number;
  cin: number;
  outD: number;
  outH: number;
  outW: number;
  cout: number;
  fd: number;
  fh: number;
  fw: number;
  sd: number;
  sh: number;
  sw: number;
  padFront: number;
  padTop: number;
  padLeft: number;
}

/**
 * Rows of the column matrix are output voxels, taken a line at a time: line l = od * outH + oh holds the
 * outW rows (od, oh, 0..outW-1) of one batch item. Blocks of lines keep the column buffer in cache.
 * Column ((kd * fh + kh) * fw + kw) * cin + ci of row (od, oh, ow) is x[od*sd - pf + kd, oh*sh - pt + kh,
 * ow*sw - pl + kw, ci], or 0 outside the input.
 */
function walkLines(g: ConvGeometry, b: number, l0: number, l1: number, visit: (xAt: number, colAt: number, len: number) => void): void {
  const { inD, inH, inW, cin, outH, outW, fd, fh, fw, sd, sh, sw, padFront, padTop, padLeft } = g;
  const K = fd * fh * fw * cin;
  let r = 0;
  for (let l = l0; l < l1; l++) {
    const od = Math.floor(l / outH);
    const oh = l % outH;
    for (let ow = 0; ow < outW; ow++, r++) {
      const iw0 = ow * sw - padLeft;
      const kwLo = Math.max(0, -iw0);
      const kwHi = Math.min(fw, inW - iw0);
      if (kwHi <= kwLo) continue;
      const len = (kwHi - kwLo) * cin;
      for (let kd = 0; kd < fd; kd++) {
        const id = od * sd - padFront + kd;
        if (id < 0 || id >= inD) continue;
        for (let kh = 0; kh < fh; kh++) {
          const ih = oh * sh - padTop + kh;
          if (ih < 0 || ih >= inH) continue;
          visit((((b * inD + id) * inH + ih) * inW + iw0 + kwLo) * cin, r * K + ((kd * fh + kh) * fw + kwLo) * cin, len);
        }
      }
    }
  }
}

/** Fill col (rows x K) from x for batch item b and lines [l0, l1). The portable version of columns.wat. */
export function im2col(g: ConvGeometry, x: Float32Array, b: number, l0: number, l1: number, col: Float32Array): void {
  const K = g.fd * g.fh * g.fw * g.cin;
  col.fill(0, 0, (l1 - l0) * g.outW * K);
  walkLines(g, b, l0, l1, (xAt, colAt, len) => {
    for (let t = 0; t < len; t++) col[colAt + t] = x[xAt + t];
  });
}

/** Add col (rows x K) back into dx for batch item b and lines [l0, l1) (the adjoint of im2col). */
export function col2imAdd(g: ConvGeometry, col: Float32Array, b: number, l0: number, l1: number, dx: Float32Array): void {
  walkLines(g, b, l0, l1, (xAt, colAt, len) => {
    for (let t = 0; t < len; t++) dx[xAt + t] += col[colAt + t];
  });
}

/** Lines per block so that a column buffer holds at most maxFloats floats. */
export function lineBlock(g: ConvGeometry, maxFloats: number): number {
  const perLine = g.outW * g.fd * g.fh * g.fw * g.cin;
  return Math.max(1, Math.min(g.outD * g.outH, Math.floor(maxFloats / Math.max(1, perLine))));
}

/** A float buffer owned by the caller's memory (e.g. the wasm heap). */
export interface Buffer32 {
  id: unknown;
}

/** The three column loops on buffers (the JavaScript ones above, or faster ones a backend supplies). */
export interface ColumnLoops<B extends Buffer32> {
  im2col(g: ConvGeometry, x: B, b: number, l0: number, l1: number, col: B): void;
  col2imAdd(g: ConvGeometry, col: B, b: number, l0: number, l1: number, dx: B): void;
  im2colTransposed(g: ConvGeometry, x: B, b: number, l0: number, l1: number, colT: B): void;
}

export function jsColumnLoops<B extends Buffer32>(view: (buf: B) => Float32Array): ColumnLoops<B> {
  return {
    im2col: (g, x, b, l0, l1, col) => im2col(g, view(x), b, l0, l1, view(col)),
    col2imAdd: (g, col, b, l0, l1, dx) => col2imAdd(g, view(col), b, l0, l1, view(dx)),
    im2colTransposed: (g, x, b, l0, l1, colT) => im2colTransposed(g, view(x), b, l0, l1, view(colT)),
  };
}

/** What the algorithms need from a backend. Views may move when memory grows: take them just before use. */
export interface ConvArena<B extends Buffer32> {
  alloc(size: number): B;
  free(buf: B): void;
  view(buf: B): Float32Array;
  columns: ColumnLoops<B>;
  /**
   * c[m x n] = op(a) op(b), op = transpose when asked; a is [m x k] (or [k x m] transposed). The backend
   * may keep b packed between calls (tfjs wasm caches XNNPACK's packed weights per buffer), so never
   * rewrite a buffer that was passed as b: pass a fresh one.
   */
  matmul(a: B, aRows: number, aCols: number, b: B, bRows: number, bCols: number, transA: boolean, transB: boolean): B;
}

/**
 * Column floats per block: 1 MiB, about one core's L2, so the product reads the columns from cache
 * (on the 2-core EPYC here, 1 MiB blocks beat 256 KiB, 4 MiB and 32 MiB). Settable for tests.
 */
let maxColumnFloats = 256 * 1024;

export function setColumnBlockFloats(n: number): number {
  const before = maxColumnFloats;
  if (!(n >= 1)) throw new Error(`column block size must be >= 1 float, got ${n}`);
  maxColumnFloats = n;
  return before;
}

/** The line blocks [l0, l1) of one batch item. */
function* blocks(g: ConvGeometry): Generator<[number, number]> {
  const lines = g.outD * g.outH;
  const step = lineBlock(g, maxColumnFloats);
  for (let l0 = 0; l0 < lines; l0 += step) yield [l0, Math.min(lines, l0 + step)];
}

/** Copy n floats from src[from..] into a new buffer. */
function copyOut<B extends Buffer32>(m: ConvArena<B>, src: B, from: number, n: number): B {
  const out = m.alloc(n);
  m.view(out).set(m.view(src).subarray(from, from + n));
  return out;
}

export function conv3dForward<B extends Buffer32>(m: ConvArena<B>, g: ConvGeometry, x: B, filter: B): B {
  const K = g.fd * g.fh * g.fw * g.cin;
  const lines = g.outD * g.outH;
  const out = m.alloc(g.batch * lines * g.outW * g.cout);
  const col = m.alloc(lineBlock(g, maxColumnFloats) * g.outW * K);
  for (let b = 0; b < g.batch; b++)
    for (const [l0, l1] of blocks(g)) {
      const rows = (l1 - l0) * g.outW;
      m.columns.im2col(g, x, b, l0, l1, col);
      const prod = m.matmul(col, rows, K, filter, K, g.cout, false, false);
      m.view(out).set(m.view(prod).subarray(0, rows * g.cout), (b * lines + l0) * g.outW * g.cout);
      m.free(prod);
    }
  m.free(col);
  return out;
}

/**
 * The stride-1 input gradient is a forward convolution of dy with the flipped filter (channels swapped)
 * and padding f - 1 - pad; this is its geometry (see inputGradInParts in conv3d-parallel.ts).
 */
export function transposedGeometry(g: ConvGeometry): ConvGeometry {
  return {
    ...g,
    inD: g.outD,
    inH: g.outH,
    inW: g.outW,
    cin: g.cout,
    outD: g.inD,
    outH: g.inH,
    outW: g.inW,
    cout: g.cin,
    padFront: g.fd - 1 - g.padFront,
    padTop: g.fh - 1 - g.padTop,
    padLeft: g.fw - 1 - g.padLeft,
  };
}

/** flipped[kd', kh', kw', co, ci] = w[fd-1-kd', fh-1-kh', fw-1-kw', ci, co] (w: [fd, fh, fw, Cin, Cout]). */
export function flipFilterInto(g: ConvGeometry, w: Float32Array, flipped: Float32Array): void {
  const taps = g.fd * g.fh * g.fw;
  const block = g.cin * g.cout;
  for (let t = 0; t < taps; t++) {
    const src = (taps - 1 - t) * block; // reversing (kd, kh, kw) together reverses the flat tap index
    const dst = t * block;
    for (let ci = 0; ci < g.cin; ci++) for (let co = 0; co < g.cout; co++) flipped[dst + co * g.cin + ci] = w[src + ci * g.cout + co];
  }
}

/** The input gradient by im2col's adjoint (col2im), any stride. */
export function conv3dBackpropInput<B extends Buffer32>(m: ConvArena<B>, g: ConvGeometry, dy: B, filter: B): B {
  const K = g.fd * g.fh * g.fw * g.cin;
  const lines = g.outD * g.outH;
  const dx = m.alloc(g.batch * g.inD * g.inH * g.inW * g.cin);
  m.view(dx).fill(0);
  // The filter transposed once ([Cout, K]): XNNPACK's products with a transposed operand are ~10x slower.
  const filterT = m.alloc(K * g.cout);
  transposeInto(m.view(filter), K, g.cout, m.view(filterT));
  for (let b = 0; b < g.batch; b++)
    for (const [l0, l1] of blocks(g)) {
      const rows = (l1 - l0) * g.outW;
      const dyBlock = copyOut(m, dy, (b * lines + l0) * g.outW * g.cout, rows * g.cout);
      const dcol = m.matmul(dyBlock, rows, g.cout, filterT, g.cout, K, false, false);
      m.columns.col2imAdd(g, dcol, b, l0, l1, dx);
      m.free(dyBlock);
      m.free(dcol);
    }
  m.free(filterT);
  return dx;
}

/** out[c * rows + r] = a[r * cols + c]. */
export function transposeInto(a: Float32Array, rows: number, cols: number, out: Float32Array): void {
  for (let r = 0; r < rows; r++) {
    const base = r * cols;
    for (let c = 0; c < cols; c++) out[c * rows + r] = a[base + c];
  }
}

/**
 * The transposed column matrix colT [K, rows] (rows = output voxels of lines [l0, l1)), so that the
 * filter gradient is the plain product colT @ dy: XNNPACK packs its second operand on every call, and
 * packing dy [rows, Cout] is far cheaper than packing col [rows, K].
 */
export function im2colTransposed(g: ConvGeometry, x: Float32Array, b: number, l0: number, l1: number, colT: Float32Array): void {
  const rows = (l1 - l0) * g.outW;
  let k = 0;
  for (let kd = 0; kd < g.fd; kd++)
    for (let kh = 0; kh < g.fh; kh++)
      for (let kw = 0; kw < g.fw; kw++)
        for (let ci = 0; ci < g.cin; ci++, k++) {
          let r = k * rows;
          for (let l = l0; l < l1; l++) {
            const id = Math.floor(l / g.outH) * g.sd - g.padFront + kd;
            const ih = (l % g.outH) * g.sh - g.padTop + kh;
            if (id < 0 || id >= g.inD || ih < 0 || ih >= g.inH) {
              colT.fill(0, r, r + g.outW);
              r += g.outW;
              continue;
            }
            const rowBase = ((b * g.inD + id) * g.inH + ih) * g.inW;
            for (let ow = 0; ow < g.outW; ow++, r++) {
              const iw = ow * g.sw - g.padLeft + kw;
              colT[r] = iw >= 0 && iw < g.inW ? x[(rowBase + iw) * g.cin + ci] : 0;
            }
          }
        }
}

export function conv3dBackpropFilter<B extends Buffer32>(m: ConvArena<B>, g: ConvGeometry, x: B, dy: B): B {
  const K = g.fd * g.fh * g.fw * g.cin;
  const lines = g.outD * g.outH;
  const acc = new Float32Array(K * g.cout);
  const colT = m.alloc(lineBlock(g, maxColumnFloats) * g.outW * K);
  for (let b = 0; b < g.batch; b++)
    for (const [l0, l1] of blocks(g)) {
      const rows = (l1 - l0) * g.outW;
      m.columns.im2colTransposed(g, x, b, l0, l1, colT);
      const dyBlock = copyOut(m, dy, (b * lines + l0) * g.outW * g.cout, rows * g.cout);
      const part = m.matmul(colT, K, rows, dyBlock, rows, g.cout, false, false);
      const pv = m.view(part);
      for (let i = 0; i < acc.length; i++) acc[i] += pv[i];
      m.free(dyBlock);
      m.free(part);
    }
  m.free(colT);
  const out = m.alloc(K * g.cout);
  m.view(out).set(acc);
  return out;
}
