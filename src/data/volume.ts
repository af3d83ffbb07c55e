/**
 * A 3D volume in NIfTI voxel order (x fastest, then y, then z) with its voxel-to-world affine.
 * Images use Float32Array (HU, or [0, 1] after windowing); label maps use Uint8Array class ids.
 */
export type Vec3 = [number, number, number];
/** Row-major 4x4 voxel-index -> world (mm, RAS+) matrix. */
export type Mat4 = number[];

export type VoxelArray = Float32Array | Uint8Array;

export interface Volume<T extends VoxelArray = Float32Array> {
  shape: Vec3;
  spacing: Vec3;
  affine: Mat4;
  data: T;
}

export function voxelCount(shape: Vec3): number {
  return shape[0] * shape[1] * shape[2];
}

export function index3(shape: Vec3, x: number, y: number, z: number): number {
  return x + shape[0] * (y + shape[1] * z);
}

export function diagonalAffine(spacing: Vec3, origin: Vec3 = [0, 0, 0]): Mat4 {
  return [spacing[0], 0, 0, origin[0], 0, spacing[1], 0, origin[1], 0, 0, spacing[2], origin[2], 0, 0, 0, 1];
}

/** Voxel sizes are the lengths of the affine's first three columns. */
export function spacingFromAffine(a: Mat4): Vec3 {
  const col = (j: number) => Math.hypot(a[j], a[4 + j], a[8 + j]);
  return [col(0), col(1), col(2)];
}

export function matMul4(a: Mat4, b: Mat4): Mat4 {
  const out = new Array<number>(16).fill(0);
  for (let i = 0; i < 4; i++)
    for (let j = 0; j < 4; j++) {
      let s = 0;
      for (let k = 0; k < 4; k++) s += a[i * 4 + k] * b[k * 4 + j];
      out[i * 4 + j] = s;
    }
  return out;
}

export function applyAffine(a: Mat4, p: Vec3): Vec3 {
  return [0, 1, 2].map((i) => a[i * 4] * p[0] + a[i * 4 + 1] * p[1] + a[i * 4 + 2] * p[2] + a[i * 4 + 3]) as Vec3;
}

export function sameGeometry(a: Volume<VoxelArray>, b: Volume<VoxelArray>, tolMm = 1e-3): boolean {
  if (a.shape.some((n, i) => n !== b.shape[i])) return false;
  return a.affine.every((v, i) => Math.abs(v - b.affine[i]) <= tolMm);
}

/**
 * Orientation codes like nibabel's aff2axcodes: for each voxel axis, the world axis it mostly runs along
 * and its direction, as one of "R/L", "A/P", "S/I".
 */
export function axisCodes(a: Mat4): string {
  const pos = ["R", "A", "S"];
  const neg = ["L", "P", "I"];
  return [0, 1, 2]
    .map((j) => {
      const col = [a[j], a[4 + j], a[8 + j]];
      const w = col.map(Math.abs).indexOf(Math.max(...col.map(Math.abs)));
      return col[w] >= 0 ? pos[w] : neg[w];
    })
    .join("");
}

/**
 * Permute and flip voxel axes so that axis i runs along world axis i in the + direction (RAS).
 * The data is reordered; the world positions of voxels are unchanged (the affine compensates).
 */
export function reorientToRAS<T extends VoxelArray>(vol: Volume<T>): Volume<T> {
  const a = vol.affine;
  // worldOf[j] = world axis voxel axis j runs along; flip[j] = it runs backwards.
  const worldOf: number[] = [];
  const flip: boolean[] = [];
  for (let j = 0; j < 3; j++) {
    const col = [a[j], a[4 + j], a[8 + j]].map(Math.abs);
    let w = col.indexOf(Math.max(...col));
    // Degenerate (oblique) affines: never map two voxel axes to one world axis.
    if (worldOf.includes(w)) w = [0, 1, 2].find((k) => !worldOf.includes(k))!;
    worldOf.push(w);
    flip.push(a[w * 4 + j] < 0);
  }
  if (worldOf.every((w, j) => w === j) && !flip.some(Boolean)) return vol;
  const inAxisOf = [0, 1, 2].map((w) => worldOf.indexOf(w)); // output axis w reads input axis inAxisOf[w]
  const outShape = inAxisOf.map((j) => vol.shape[j]) as Vec3;
  // out index o -> in index i: i[inAxisOf[w]] = flip ? n-1-o[w] : o[w]. As a matrix M (4x4), new affine = A*M.
  const m = new Array<number>(16).fill(0);
  m[15] = 1;
  for (let w = 0; w < 3; w++) {
    const j = inAxisOf[w];
    if (flip[j]) {
      m[j * 4 + w] = -1;
      m[j * 4 + 3] = vol.shape[j] - 1;
    } else m[j * 4 + w] = 1;
  }
  const out = new (vol.data.constructor as { new (n: number): T })(vol.data.length);
  const [sx, sy] = vol.shape;
  const stride = [1, sx, sx * sy];
  let o = 0;
  for (let z = 0; z < outShape[2]; z++)
    for (let y = 0; y < outShape[1]; y++)
      for (let x = 0; x < outShape[0]; x++) {
        const oc = [x, y, z];
        let idx = 0;
        for (let w = 0; w < 3; w++) {
          const j = inAxisOf[w];
          idx += (flip[j] ? vol.shape[j] - 1 - oc[w] : oc[w]) * stride[j];
        }
        out[o++] = vol.data[idx];
      }
  const affine = matMul4(a, m);
  return { shape: outShape, spacing: inAxisOf.map((j) => vol.spacing[j]) as Vec3, affine, data: out };
}

export type Interpolation = "linear" | "nearest";

/**
 * Resample to a new voxel spacing, keeping the world position of voxel (0,0,0). Output size per axis is
 * round(n * old / new). Trilinear for images, nearest neighbour for labels; samples past the last input
 * voxel repeat the edge.
 */
export function resample<T extends VoxelArray>(vol: Volume<T>, target: Vec3, mode: Interpolation): Volume<T> {
  if (target.some((t) => !(t > 0))) throw new Error(`resample: target spacing must be positive, got ${target}`);
  const ratio = target.map((t, i) => t / vol.spacing[i]) as Vec3;
  const outShape = vol.shape.map((n, i) => Math.max(1, Math.round((n * vol.spacing[i]) / target[i]))) as Vec3;
  const out = new (vol.data.constructor as { new (n: number): T })(voxelCount(outShape));
  const [nx, ny, nz] = vol.shape;
  const src = vol.data;
  // Per-axis source positions and weights, computed once.
  const axis = (n: number, on: number, r: number) => {
    const i0 = new Int32Array(on);
    const i1 = new Int32Array(on);
    const w = new Float32Array(on);
    for (let o = 0; o < on; o++) {
      const p = Math.min(o * r, n - 1);
      if (mode === "nearest") {
        i0[o] = i1[o] = Math.min(n - 1, Math.round(p));
        w[o] = 0;
      } else {
        const f = Math.floor(p);
        i0[o] = f;
        i1[o] = Math.min(n - 1, f + 1);
        w[o] = p - f;
      }
    }
    return { i0, i1, w };
  };
  const X = axis(nx, outShape[0], ratio[0]);
  const Y = axis(ny, outShape[1], ratio[1]);
  const Z = axis(nz, outShape[2], ratio[2]);
  const sxy = nx * ny;
  let o = 0;
  for (let z = 0; z < outShape[2]; z++) {
    const z0 = Z.i0[z] * sxy,
      z1 = Z.i1[z] * sxy,
      wz = Z.w[z];
    for (let y = 0; y < outShape[1]; y++) {
      const y0 = Y.i0[y] * nx,
        y1 = Y.i1[y] * nx,
        wy = Y.w[y];
      for (let x = 0; x < outShape[0]; x++) {
        const x0 = X.i0[x],
          x1 = X.i1[x],
          wx = X.w[x];
        if (mode === "nearest") {
          out[o++] = src[x0 + y0 + z0];
          continue;
        }
        const c00 = src[x0 + y0 + z0] * (1 - wx) + src[x1 + y0 + z0] * wx;
        const c10 = src[x0 + y1 + z0] * (1 - wx) + src[x1 + y1 + z0] * wx;
        const c01 = src[x0 + y0 + z1] * (1 - wx) + src[x1 + y0 + z1] * wx;
        const c11 = src[x0 + y1 + z1] * (1 - wx) + src[x1 + y1 + z1] * wx;
        const c0 = c00 * (1 - wy) + c10 * wy;
        const c1 = c01 * (1 - wy) + c11 * wy;
        out[o++] = c0 * (1 - wz) + c1 * wz;
      }
    }
  }
  const a = vol.affine.slice();
  for (let j = 0; j < 3; j++) for (let i = 0; i < 3; i++) a[i * 4 + j] *= ratio[j];
  return { shape: outShape, spacing: target.slice() as Vec3, affine: a, data: out };
}

/** Clip HU to [lo, hi] and scale linearly to [0, 1] (the paper's window is [-175, 250]). */
export function windowHU(vol: Volume<Float32Array>, lo: number, hi: number): Volume<Float32Array> {
  if (!(hi > lo)) throw new Error(`windowHU: window must have hi > lo, got [${lo}, ${hi}]`);
  const out = new Float32Array(vol.data.length);
  const inv = 1 / (hi - lo);
  for (let i = 0; i < out.length; i++) {
    const v = vol.data[i];
    out[i] = v <= lo ? 0 : v >= hi ? 1 : (v - lo) * inv;
  }
  return { ...vol, data: out };
}

export interface Box {
  start: Vec3;
  /** Exclusive end. */
  end: Vec3;
}

/** Bounding box of voxels where pred(value) holds; the whole volume when none does. */
export function foregroundBox(vol: Volume<VoxelArray>, pred: (v: number) => boolean): Box {
  const [nx, ny, nz] = vol.shape;
  const lo: Vec3 = [nx, ny, nz];
  const hi: Vec3 = [-1, -1, -1];
  let i = 0;
  for (let z = 0; z < nz; z++)
    for (let y = 0; y < ny; y++)
      for (let x = 0; x < nx; x++, i++) {
        if (!pred(vol.data[i])) continue;
        if (x < lo[0]) lo[0] = x;
        if (x > hi[0]) hi[0] = x;
        if (y < lo[1]) lo[1] = y;
        if (y > hi[1]) hi[1] = y;
        if (z < lo[2]) lo[2] = z;
        if (z > hi[2]) hi[2] = z;
      }
  if (hi[0] < 0) return { start: [0, 0, 0], end: [nx, ny, nz] };
  return { start: lo, end: [hi[0] + 1, hi[1] + 1, hi[2] + 1] };
}

/**
 * Extract box [start, end) (which may reach outside the volume: those voxels get `fill`). The affine
 * moves so that world positions are kept.
 */
export function cropBox<T extends VoxelArray>(vol: Volume<T>, box: Box, fill = 0): Volume<T> {
  const shape = box.end.map((e, i) => e - box.start[i]) as Vec3;
  if (shape.some((n) => n <= 0)) throw new Error(`cropBox: empty box ${JSON.stringify(box)}`);
  const out = new (vol.data.constructor as { new (n: number): T })(voxelCount(shape));
  if (fill !== 0) out.fill(fill);
  const [nx, ny, nz] = vol.shape;
  const [bx, by, bz] = box.start;
  for (let z = 0; z < shape[2]; z++) {
    const sz = z + bz;
    if (sz < 0 || sz >= nz) continue;
    for (let y = 0; y < shape[1]; y++) {
      const sy = y + by;
      if (sy < 0 || sy >= ny) continue;
      const x0 = Math.max(0, -bx);
      const x1 = Math.min(shape[0], nx - bx);
      if (x1 <= x0) continue;
      const srcStart = x0 + bx + nx * (sy + ny * sz);
      out.set(vol.data.subarray(srcStart, srcStart + (x1 - x0)), x0 + shape[0] * (y + shape[1] * z));
    }
  }
  const affine = vol.affine.slice();
  for (let i = 0; i < 3; i++) affine[i * 4 + 3] += vol.affine[i * 4] * bx + vol.affine[i * 4 + 1] * by + vol.affine[i * 4 + 2] * bz;
  return { shape, spacing: vol.spacing.slice() as Vec3, affine, data: out };
}

/** Pad symmetrically (extra voxel at the end) with `fill` so every axis is at least `size`. */
export function padToAtLeast<T extends VoxelArray>(vol: Volume<T>, size: Vec3, fill = 0): Volume<T> {
  if (vol.shape.every((n, i) => n >= size[i])) return vol;
  const start = vol.shape.map((n, i) => -Math.floor(Math.max(0, size[i] - n) / 2)) as Vec3;
  const end = vol.shape.map((n, i) => start[i] + Math.max(n, size[i])) as Vec3;
  return cropBox(vol, { start, end }, fill);
}

export function countNaN(data: ArrayLike<number>): number {
  let n = 0;
  for (let i = 0; i < data.length; i++) if (Number.isNaN(data[i])) n++;
  return n;
}

/** Reverse the data along the flagged axes; the affine changes so world positions are kept. */
export function flipAxes<T extends VoxelArray>(vol: Volume<T>, flip: [boolean, boolean, boolean]): Volume<T> {
  const box: Box = { start: [0, 0, 0], end: vol.shape.slice() as Vec3 };
  const out = cropBox(vol, box); // a copy with the same geometry
  const [nx, ny, nz] = vol.shape;
  let o = 0;
  for (let z = 0; z < nz; z++)
    for (let y = 0; y < ny; y++)
      for (let x = 0; x < nx; x++, o++) {
        const sx = flip[0] ? nx - 1 - x : x;
        const sy = flip[1] ? ny - 1 - y : y;
        const sz = flip[2] ? nz - 1 - z : z;
        out.data[o] = vol.data[sx + nx * (sy + ny * sz)];
      }
  const a = vol.affine.slice();
  for (let j = 0; j < 3; j++) {
    if (!flip[j]) continue;
    for (let i = 0; i < 3; i++) {
      a[i * 4 + 3] += vol.affine[i * 4 + j] * (vol.shape[j] - 1);
      a[i * 4 + j] = -vol.affine[i * 4 + j];
    }
  }
  return { ...out, affine: a };
}

/** Separable Gaussian blur with per-axis sigma in voxels (0 = none); edges repeat. */
export function gaussianBlur(vol: Volume<Float32Array>, sigma: Vec3): Volume<Float32Array> {
  let data = vol.data;
  const [nx, ny, nz] = vol.shape;
  const strides = [1, nx, nx * ny];
  for (let axis = 0; axis < 3; axis++) {
    const s = sigma[axis];
    if (!(s > 0.05)) continue;
    const r = Math.max(1, Math.ceil(3 * s));
    const k = new Float32Array(2 * r + 1);
    let sum = 0;
    for (let i = -r; i <= r; i++) sum += k[i + r] = Math.exp((-i * i) / (2 * s * s));
    for (let i = 0; i < k.length; i++) k[i] /= sum;
    const n = vol.shape[axis];
    const st = strides[axis];
    const out = new Float32Array(data.length);
    for (let z = 0; z < nz; z++)
      for (let y = 0; y < ny; y++)
        for (let x = 0; x < nx; x++) {
          const idx = x + nx * (y + ny * z);
          const c = axis === 0 ? x : axis === 1 ? y : z;
          let acc = 0;
          for (let t = -r; t <= r; t++) {
            const p = Math.min(n - 1, Math.max(0, c + t));
            acc += k[t + r] * data[idx + (p - c) * st];
          }
          out[idx] = acc;
        }
    data = out;
  }
  return { ...vol, data };
}
