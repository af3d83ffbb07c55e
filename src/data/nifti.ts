/**
 * NIfTI-1/2 reading (through nifti-reader-js) and NIfTI-1 writing (.nii or .nii.gz).
 * Reading returns float32 values with scl_slope/scl_inter applied and the sform (else qform, else
 * pixdim) affine. Every failure names the file and the problem.
 */
import { readFileSync, mkdirSync } from "node:fs";
import { dirname } from "node:path";
import { gzipSync } from "node:zlib";
import * as nifti from "nifti-reader-js";
import { writeFileAtomic } from "../util/atomic.js";
import { spacingFromAffine, type Mat4, type Vec3, type Volume, type VoxelArray } from "./volume.js";

export class NiftiError extends Error {
  constructor(
    readonly file: string,
    readonly problem: string,
  ) {
    super(`${file}: ${problem}`);
    this.name = "NiftiError";
  }
}

/** NIfTI datatype codes this project reads and writes. */
export const DATATYPES = {
  uint8: { code: 2, bytes: 1 },
  int16: { code: 4, bytes: 2 },
  int32: { code: 8, bytes: 4 },
  float32: { code: 16, bytes: 4 },
  float64: { code: 64, bytes: 8 },
  int8: { code: 256, bytes: 1 },
  uint16: { code: 512, bytes: 2 },
  uint32: { code: 768, bytes: 4 },
} as const;
export type DataTypeName = keyof typeof DATATYPES;

const NAME_OF_CODE = new Map<number, DataTypeName>(
  Object.entries(DATATYPES).map(([name, d]) => [d.code, name as DataTypeName]),
);

export interface NiftiImage extends Volume<Float32Array> {
  /** The file's datatype, e.g. "int16". */
  datatype: DataTypeName;
  /** The path it was read from. */
  file: string;
}

export interface ReadOptions {
  /** Reject NaN and +-Inf voxels (default true: either poisons resampling and training silently). */
  rejectNaN?: boolean;
}

/** "contains 2 non-finite voxel(s) of 24 (1 NaN, 1 +Inf)", or undefined when every voxel is finite. */
export function nonFiniteProblem(data: Float32Array): string | undefined {
  let nan = 0, pos = 0, neg = 0;
  for (let i = 0; i < data.length; i++) {
    const v = data[i];
    if (v - v !== 0) {
      if (Number.isNaN(v)) nan++;
      else if (v > 0) pos++;
      else neg++;
    }
  }
  const total = nan + pos + neg;
  if (total === 0) return undefined;
  if (total === nan) return `contains ${nan} NaN voxel(s) of ${data.length}`;
  const parts = [[nan, "NaN"], [pos, "+Inf"], [neg, "-Inf"]].filter(([k]) => k).map(([k, name]) => `${k} ${name}`);
  return `contains ${total} non-finite voxel(s) of ${data.length} (${parts.join(", ")}); finite values only`;
}

function toArrayBuffer(buf: Uint8Array): ArrayBuffer {
  return buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength) as ArrayBuffer;
}

/** Read a .nii or .nii.gz file. */
export function readNifti(file: string, options: ReadOptions = {}): NiftiImage {
  let bytes: Buffer;
  try {
    bytes = readFileSync(file);
  } catch (e) {
    throw new NiftiError(file, `cannot read file (${(e as Error).message})`);
  }
  return parseNifti(toArrayBuffer(bytes), file, options);
}

export function parseNifti(input: ArrayBuffer, file: string, options: ReadOptions = {}): NiftiImage {
  let ab = input;
  if (ab.byteLength === 0) throw new NiftiError(file, "file is empty");
  if (nifti.isCompressed(ab)) {
    try {
      ab = nifti.decompress(ab) as ArrayBuffer;
    } catch (e) {
      throw new NiftiError(file, `corrupt or truncated gzip stream (${(e as Error).message})`);
    }
  }
  if (ab.byteLength < 348) throw new NiftiError(file, `truncated header: ${ab.byteLength} bytes, a NIfTI-1 header needs 348`);
  if (!nifti.isNIFTI(ab)) {
    throw new NiftiError(file, "not a NIfTI file: bad magic (expected 'n+1'/'ni1' or 'n+2') or bad sizeof_hdr");
  }
  let h: nifti.NIFTI1 | nifti.NIFTI2;
  try {
    h = nifti.readHeader(ab) as nifti.NIFTI1 | nifti.NIFTI2;
  } catch (e) {
    throw new NiftiError(file, `unreadable header (${(e as Error).message})`);
  }
  const ndim = h.dims[0];
  if (!(ndim >= 1 && ndim <= 7)) throw new NiftiError(file, `header dim[0] = ${ndim} is not in 1..7`);
  const shape = [1, 2, 3].map((i) => (i <= ndim ? h.dims[i] : 1)) as Vec3;
  if (shape.some((n) => !(n >= 1))) throw new NiftiError(file, `bad dimensions ${JSON.stringify(h.dims.slice(1, ndim + 1))}`);
  const name = NAME_OF_CODE.get(h.datatypeCode);
  if (!name) throw new NiftiError(file, `unsupported datatype code ${h.datatypeCode}`);
  const bpv = DATATYPES[name].bytes;
  if (h.numBitsPerVoxel !== bpv * 8) {
    throw new NiftiError(file, `bitpix ${h.numBitsPerVoxel} does not match datatype ${name} (${bpv * 8})`);
  }
  // Only the first 3D volume of a 4D+ file is read.
  const n = shape[0] * shape[1] * shape[2];
  const offset = Math.round(h.vox_offset);
  const available = ab.byteLength - offset;
  if (offset < 348 || available < n * bpv) {
    throw new NiftiError(
      file,
      `data length does not match the header: ${shape.join("x")} ${name} needs ${n * bpv} bytes from offset ${offset}, the file has ${Math.max(0, available)}`,
    );
  }
  const view = new DataView(ab, offset, n * bpv);
  const le = h.littleEndian;
  const out = new Float32Array(n);
  const get: (i: number) => number = {
    uint8: (i: number) => view.getUint8(i),
    int8: (i: number) => view.getInt8(i),
    int16: (i: number) => view.getInt16(i * 2, le),
    uint16: (i: number) => view.getUint16(i * 2, le),
    int32: (i: number) => view.getInt32(i * 4, le),
    uint32: (i: number) => view.getUint32(i * 4, le),
    float32: (i: number) => view.getFloat32(i * 4, le),
    float64: (i: number) => view.getFloat64(i * 8, le),
  }[name];
  const slope = Number.isFinite(h.scl_slope) && h.scl_slope !== 0 ? h.scl_slope : 1;
  const inter = Number.isFinite(h.scl_inter) ? h.scl_inter : 0;
  if (slope === 1 && inter === 0) for (let i = 0; i < n; i++) out[i] = get(i);
  else for (let i = 0; i < n; i++) out[i] = get(i) * slope + inter;
  if (options.rejectNaN !== false) {
    const problem = nonFiniteProblem(out);
    if (problem) throw new NiftiError(file, problem);
  }
  const affine = headerAffine(h, file);
  return { shape, spacing: spacingFromAffine(affine), affine, data: out, datatype: name, file };
}

/** sform if set, else qform, else a diagonal from pixdim (NIfTI "method 1"). */
function headerAffine(h: nifti.NIFTI1 | nifti.NIFTI2, file: string): Mat4 {
  let a: Mat4;
  if (h.sform_code > 0) {
    a = [...h.affine[0], ...h.affine[1], ...h.affine[2], 0, 0, 0, 1];
  } else if (h.qform_code > 0) {
    a = quaternToAffine(
      [h.quatern_b, h.quatern_c, h.quatern_d],
      [h.qoffset_x, h.qoffset_y, h.qoffset_z],
      [h.pixDims[1], h.pixDims[2], h.pixDims[3]],
      h.pixDims[0] < 0 ? -1 : 1,
    );
  } else {
    a = [h.pixDims[1] || 1, 0, 0, 0, 0, h.pixDims[2] || 1, 0, 0, 0, 0, h.pixDims[3] || 1, 0, 0, 0, 0, 1];
  }
  if (a.some((v) => !Number.isFinite(v))) throw new NiftiError(file, "affine contains non-finite values");
  const det =
    a[0] * (a[5] * a[10] - a[6] * a[9]) - a[1] * (a[4] * a[10] - a[6] * a[8]) + a[2] * (a[4] * a[9] - a[5] * a[8]);
  if (Math.abs(det) < 1e-12) throw new NiftiError(file, "affine is singular (zero voxel size?)");
  return a;
}

export function quaternToAffine(q: Vec3, offset: Vec3, pixdim: Vec3, qfac: number): Mat4 {
  const [b, c, d] = q;
  const a = Math.sqrt(Math.max(0, 1 - (b * b + c * c + d * d)));
  const r = [
    a * a + b * b - c * c - d * d, 2 * (b * c - a * d), 2 * (b * d + a * c),
    2 * (b * c + a * d), a * a + c * c - b * b - d * d, 2 * (c * d - a * b),
    2 * (b * d - a * c), 2 * (c * d + a * b), a * a + d * d - c * c - b * b,
  ];
  const s = [pixdim[0] || 1, pixdim[1] || 1, (pixdim[2] || 1) * (qfac < 0 ? -1 : 1)];
  return [
    r[0] * s[0], r[1] * s[1], r[2] * s[2], offset[0],
    r[3] * s[0], r[4] * s[1], r[5] * s[2], offset[1],
    r[6] * s[0], r[7] * s[1], r[8] * s[2], offset[2],
    0, 0, 0, 1,
  ];
}

/** Rotation part of an affine as a NIfTI quaternion (b, c, d) and qfac, after removing voxel sizes. */
export function affineToQuatern(a: Mat4): { q: Vec3; qfac: number; pixdim: Vec3 } {
  const sp = spacingFromAffine(a);
  let r = [0, 1, 2].map((i) => [0, 1, 2].map((j) => a[i * 4 + j] / sp[j]));
  const det =
    r[0][0] * (r[1][1] * r[2][2] - r[1][2] * r[2][1]) -
    r[0][1] * (r[1][0] * r[2][2] - r[1][2] * r[2][0]) +
    r[0][2] * (r[1][0] * r[2][1] - r[1][1] * r[2][0]);
  let qfac = 1;
  if (det < 0) {
    qfac = -1;
    r = r.map((row) => [row[0], row[1], -row[2]]);
  }
  // Standard rotation-matrix -> quaternion, choosing the numerically largest component.
  const tr = r[0][0] + r[1][1] + r[2][2];
  let qa: number, qb: number, qc: number, qd: number;
  if (tr > 0) {
    const s = Math.sqrt(tr + 1) * 2;
    qa = 0.25 * s;
    qb = (r[2][1] - r[1][2]) / s;
    qc = (r[0][2] - r[2][0]) / s;
    qd = (r[1][0] - r[0][1]) / s;
  } else if (r[0][0] > r[1][1] && r[0][0] > r[2][2]) {
    const s = Math.sqrt(1 + r[0][0] - r[1][1] - r[2][2]) * 2;
    qa = (r[2][1] - r[1][2]) / s;
    qb = 0.25 * s;
    qc = (r[0][1] + r[1][0]) / s;
    qd = (r[0][2] + r[2][0]) / s;
  } else if (r[1][1] > r[2][2]) {
    const s = Math.sqrt(1 + r[1][1] - r[0][0] - r[2][2]) * 2;
    qa = (r[0][2] - r[2][0]) / s;
    qb = (r[0][1] + r[1][0]) / s;
    qc = 0.25 * s;
    qd = (r[1][2] + r[2][1]) / s;
  } else {
    const s = Math.sqrt(1 + r[2][2] - r[0][0] - r[1][1]) * 2;
    qa = (r[1][0] - r[0][1]) / s;
    qb = (r[0][2] + r[2][0]) / s;
    qc = (r[1][2] + r[2][1]) / s;
    qd = 0.25 * s;
  }
  if (qa < 0) [qb, qc, qd] = [-qb, -qc, -qd]; // NIfTI requires a >= 0
  return { q: [qb, qc, qd], qfac, pixdim: sp };
}

export interface WriteOptions {
  datatype?: DataTypeName;
  description?: string;
}

function defaultDatatype(data: VoxelArray): DataTypeName {
  return data instanceof Uint8Array ? "uint8" : "float32";
}

/** Encode a volume as NIfTI-1 (single file, little-endian, sform and qform both set, mm units). */
export function encodeNifti(vol: Volume<VoxelArray>, options: WriteOptions = {}): Uint8Array {
  const dtype = options.datatype ?? defaultDatatype(vol.data);
  const { code, bytes } = DATATYPES[dtype];
  const n = vol.shape[0] * vol.shape[1] * vol.shape[2];
  if (vol.data.length !== n) throw new Error(`encodeNifti: data has ${vol.data.length} voxels, shape ${vol.shape.join("x")} needs ${n}`);
  const voxOffset = 352;
  const buf = new ArrayBuffer(voxOffset + n * bytes);
  const v = new DataView(buf);
  const le = true;
  v.setInt32(0, 348, le);
  v.setUint8(38, "r".charCodeAt(0));
  v.setInt16(40, 3, le);
  for (let i = 0; i < 3; i++) v.setInt16(42 + 2 * i, vol.shape[i], le);
  for (let i = 3; i < 7; i++) v.setInt16(42 + 2 * i, 1, le);
  v.setInt16(70, code, le);
  v.setInt16(72, bytes * 8, le);
  const { q, qfac, pixdim } = affineToQuatern(vol.affine);
  v.setFloat32(76, qfac, le);
  for (let i = 0; i < 3; i++) v.setFloat32(80 + 4 * i, pixdim[i], le);
  for (let i = 3; i < 7; i++) v.setFloat32(80 + 4 * i, 1, le);
  v.setFloat32(108, voxOffset, le);
  v.setFloat32(112, 1, le); // scl_slope
  v.setFloat32(116, 0, le); // scl_inter
  v.setUint8(123, 2 | 8); // NIFTI_UNITS_MM | NIFTI_UNITS_SEC
  const desc = (options.description ?? "massive").slice(0, 79);
  for (let i = 0; i < desc.length; i++) v.setUint8(148 + i, desc.charCodeAt(i) & 0x7f);
  v.setInt16(252, 2, le); // qform_code: aligned anat
  v.setInt16(254, 2, le); // sform_code: aligned anat
  for (let i = 0; i < 3; i++) v.setFloat32(256 + 4 * i, q[i], le);
  for (let i = 0; i < 3; i++) v.setFloat32(268 + 4 * i, vol.affine[i * 4 + 3], le);
  for (let r = 0; r < 3; r++) for (let c = 0; c < 4; c++) v.setFloat32(280 + 16 * r + 4 * c, vol.affine[r * 4 + c], le);
  [0x6e, 0x2b, 0x31, 0].forEach((ch, i) => v.setUint8(344 + i, ch)); // "n+1\0"
  // 348..351: no extensions.
  const write = {
    uint8: (i: number, x: number) => v.setUint8(voxOffset + i, x),
    int8: (i: number, x: number) => v.setInt8(voxOffset + i, x),
    int16: (i: number, x: number) => v.setInt16(voxOffset + 2 * i, x, le),
    uint16: (i: number, x: number) => v.setUint16(voxOffset + 2 * i, x, le),
    int32: (i: number, x: number) => v.setInt32(voxOffset + 4 * i, x, le),
    uint32: (i: number, x: number) => v.setUint32(voxOffset + 4 * i, x, le),
    float32: (i: number, x: number) => v.setFloat32(voxOffset + 4 * i, x, le),
    float64: (i: number, x: number) => v.setFloat64(voxOffset + 8 * i, x, le),
  }[dtype];
  const isInt = dtype !== "float32" && dtype !== "float64";
  for (let i = 0; i < n; i++) write(i, isInt ? Math.round(vol.data[i]) : vol.data[i]);
  return new Uint8Array(buf);
}

/** Write .nii or .nii.gz (by extension), atomically: a killed writer never leaves half a file. */
export function writeNifti(file: string, vol: Volume<VoxelArray>, options: WriteOptions = {}): void {
  const raw = encodeNifti(vol, options);
  const payload = file.endsWith(".gz") ? gzipSync(raw, { level: 6 }) : raw;
  mkdirSync(dirname(file), { recursive: true });
  writeFileAtomic(file, payload);
}

/** Read a label map: values must be non-negative integers. */
export function readLabelNifti(file: string): Volume<Uint8Array> & { file: string; maxValue: number } {
  const img = readNifti(file);
  let maxValue = 0;
  const out = new Uint8Array(img.data.length);
  for (let i = 0; i < img.data.length; i++) {
    const x = img.data[i];
    if (x < 0 || x !== Math.round(x) || x > 255) {
      throw new NiftiError(file, `label map has a non-integer or out-of-range value ${x} at voxel ${i} (labels must be integers 0..255)`);
    }
    out[i] = x;
    if (x > maxValue) maxValue = x;
  }
  return { shape: img.shape, spacing: img.spacing, affine: img.affine, data: out, file, maxValue };
}
