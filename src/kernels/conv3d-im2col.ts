/**
 * 3D convolution and its two gradients as im2col/col2im around one matrix product, blocked over output
 * depth so the column buffer stays bounded. Independent of any backend: the caller supplies the buffers
 * and the matrix product (see wasm-kernels.ts, which plugs in XNNPACK through the wasm backend).
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

/** Fill col (rows x K, rows = (od1 - od0) * outH * outW) from x for batch b and output depths [od0, od1). */
export function im2col(g: ConvGeometry, x: Float32Array, b: number, od0: number, od1: number, col: Float32Array): void {
  const K = g.fd * g.fh * g.fw * g.cin;
  col.fill(0, 0, (od1 - od0) * g.outH * g.outW * K);
  let r = 0;
  for (let od = od0; od < od1; od++)
    for (let oh = 0; oh < g.outH; oh++)
      for (let ow = 0; ow < g.outW; ow++, r++) {
        const iw0 = ow * g.sw - g.padLeft;
        const kwLo = Math.max(0, -iw0);
        const kwHi = Math.min(g.fw, g.inW - iw0);
        if (kwHi <= kwLo) continue;
        const len = (kwHi - kwLo) * g.cin;
        for (let kd = 0; kd < g.fd; kd++) {
          const id = od * g.sd - g.padFront + kd;
          if (id < 0 || id >= g.inD) continue;
          for (let kh = 0; kh < g.fh; kh++) {
            const ih = oh * g.sh - g.padTop + kh;
            if (ih < 0 || ih >= g.inH) continue;
            const src = (((b * g.inD + id) * g.inH + ih) * g.inW + iw0 + kwLo) * g.cin;
            const dst = r * K + ((kd * g.fh + kh) * g.fw + kwLo) * g.cin;
            for (let t = 0; t < len; t++) col[dst + t] = x[src + t];
          }
        }
      }
}

/** Add col (rows x K) back into dx for batch b and output depths [od0, od1) (the adjoint of im2col). */
export function col2imAdd(g: ConvGeometry, col: Float32Array, b: number, od0: number, od1: number, dx: Float32Array): void {
  const K = g.fd * g.fh * g.fw * g.cin;
  let r = 0;
  for (let od = od0; od < od1; od++)
    for (let oh = 0; oh < g.outH; oh++)
      for (let ow = 0; ow < g.outW; ow++, r++) {
        const iw0 = ow * g.sw - g.padLeft;
        const kwLo = Math.max(0, -iw0);
        const kwHi = Math.min(g.fw, g.inW - iw0);
        if (kwHi <= kwLo) continue;
        const len = (kwHi - kwLo) * g.cin;
        for (let kd = 0; kd < g.fd; kd++) {
          const id = od * g.sd - g.padFront + kd;
          if (id < 0 || id >= g.inD) continue;
          for (let kh = 0; kh < g.fh; kh++) {
            const ih = oh * g.sh - g.padTop + kh;
            if (ih < 0 || ih >= g.inH) continue;
            const dst = (((b * g.inD + id) * g.inH + ih) * g.inW + iw0 + kwLo) * g.cin;
            const src = r * K + ((kd * g.fh + kh) * g.fw + kwLo) * g.cin;
            for (let t = 0; t < len; t++) dx[dst + t] += col[src + t];
          }
        }
      }
}

/** Output depths per block so that a column buffer holds at most maxFloats floats. */
export function depthBlock(g: ConvGeometry, maxFloats: number): number {
  const perDepth = g.outH * g.outW * g.fd * g.fh * g.fw * g.cin;
  return Math.max(1, Math.min(g.outD, Math.floor(maxFloats / Math.max(1, perDepth))));
}

/** A float buffer owned by the caller's memory (e.g. the wasm heap). */
export interface Buffer32 {
  id: unknown;
}

/** What the algorithms need from a backend. Views may move when memory grows: take them just before use. */
export interface ConvMemory<B extends Buffer32> {
  alloc(size: number): B;
  free(buf: B): void;
  view(buf: B): Float32Array;
  /** c[m x n] = op(a) op(b), op = transpose when asked; a is [m x k] (or [k x m] transposed). */
  matmul(a: B, aRows: number, aCols: number, b: B, bRows: number, bCols: number, transA: boolean, transB: boolean): B;
}

const MAX_COL_FLOATS = 8 * 1024 * 1024; // 32 MiB of columns per block

export function conv3dForward<B extends Buffer32>(m: ConvMemory<B>, g: ConvGeometry, x: B, filter: B): B {
  const K = g.fd * g.fh * g.fw * g.cin;
  const plane = g.outH * g.outW;
  const out = m.alloc(g.batch * g.outD * plane * g.cout);
  const block = depthBlock(g, MAX_COL_FLOATS);
  for (let b = 0; b < g.batch; b++)
    for (let od0 = 0; od0 < g.outD; od0 += block) {
      const od1 = Math.min(g.outD, od0 + block);
      const rows = (od1 - od0) * plane;
      const col = m.alloc(rows * K);
      im2col(g, m.view(x), b, od0, od1, m.view(col));
      const prod = m.matmul(col, rows, K, filter, K, g.cout, false, false);
      m.view(out).set(m.view(prod).subarray(0, rows * g.cout), ((b * g.outD + od0) * plane) * g.cout);
      m.free(col);
      m.free(prod);
    }
  return out;
}

export function conv3dBackpropInput<B extends Buffer32>(m: ConvMemory<B>, g: ConvGeometry, dy: B, filter: B): B {
  const K = g.fd * g.fh * g.fw * g.cin;
  const plane = g.outH * g.outW;
  const dx = m.alloc(g.batch * g.inD * g.inH * g.inW * g.cin);
  m.view(dx).fill(0);
  // The filter transposed once ([Cout, K]): XNNPACK's products with a transposed operand are ~10x slower.
  const filterT = m.alloc(K * g.cout);
  transposeInto(m.view(filter), K, g.cout, m.view(filterT));
  const block = depthBlock(g, MAX_COL_FLOATS);
  for (let b = 0; b < g.batch; b++)
    for (let od0 = 0; od0 < g.outD; od0 += block) {
      const od1 = Math.min(g.outD, od0 + block);
      const rows = (od1 - od0) * plane;
      const dyBlock = m.alloc(rows * g.cout);
      const start = ((b * g.outD + od0) * plane) * g.cout;
      m.view(dyBlock).set(m.view(dy).subarray(start, start + rows * g.cout));
      const dcol = m.matmul(dyBlock, rows, g.cout, filterT, g.cout, K, false, false);
      col2imAdd(g, m.view(dcol), b, od0, od1, m.view(dx));
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
 * The transposed column matrix colT [K, rows] (rows = output voxels of depths [od0, od1)), so that the
 * filter gradient is the plain product colT @ dy: XNNPACK packs its second operand on every call, and
 * packing dy [rows, Cout] is far cheaper than packing col [rows, K].
 */
export function im2colTransposed(g: ConvGeometry, x: Float32Array, b: number, od0: number, od1: number, colT: Float32Array): void {
  const rows = (od1 - od0) * g.outH * g.outW;
  let k = 0;
  for (let kd = 0; kd < g.fd; kd++)
    for (let kh = 0; kh < g.fh; kh++)
      for (let kw = 0; kw < g.fw; kw++)
        for (let ci = 0; ci < g.cin; ci++, k++) {
          let r = k * rows;
          for (let od = od0; od < od1; od++) {
            const id = od * g.sd - g.padFront + kd;
            for (let oh = 0; oh < g.outH; oh++) {
              const ih = oh * g.sh - g.padTop + kh;
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
}

export function conv3dBackpropFilter<B extends Buffer32>(m: ConvMemory<B>, g: ConvGeometry, x: B, dy: B): B {
  const K = g.fd * g.fh * g.fw * g.cin;
  const plane = g.outH * g.outW;
  const acc = new Float32Array(K * g.cout);
  const block = depthBlock(g, MAX_COL_FLOATS);
  const whole = g.batch === 1 && block >= g.outD;
  for (let b = 0; b < g.batch; b++)
    for (let od0 = 0; od0 < g.outD; od0 += block) {
      const od1 = Math.min(g.outD, od0 + block);
      const rows = (od1 - od0) * plane;
      const colT = m.alloc(rows * K);
      im2colTransposed(g, m.view(x), b, od0, od1, m.view(colT));
      // dy rows of this block are contiguous; copy them only when blocking.
      let dyBlock = dy;
      if (!whole) {
        dyBlock = m.alloc(rows * g.cout);
        const start = ((b * g.outD + od0) * plane) * g.cout;
        m.view(dyBlock).set(m.view(dy).subarray(start, start + rows * g.cout));
      }
      const part = m.matmul(colT, K, rows, dyBlock, rows, g.cout, false, false);
      if (whole) {
        m.free(colT);
        return part;
      }
      const pv = m.view(part);
      for (let i = 0; i < acc.length; i++) acc[i] += pv[i];
      m.free(colT);
      m.free(dyBlock);
      m.free(part);
    }
  const out = m.alloc(K * g.cout);
  m.view(out).set(acc);
  return out;
}
