/**
 * NIfTI-1 and NIfTI-2 single-file headers, parsed from their bytes (either endianness) with nifti-reader-js, and the
 * voxel-to-world affine by the standard's rules: method 3 (sform_code > 0) the srow rows; else method 2
 * (qform_code > 0) the quaternion with pixdim and qfac; else method 1, x = pixdim[1] * i etc. Voxel sizes
 * must be positive where they are used: pixdim <= 0 is refused rather than guessed.
 */
import * as nifti from "nifti-reader-js";
import { NiftiError } from "./nifti-error.js";
import type { Mat4, Vec3 } from "./volume.js";

/** Every datatype code of the NIfTI-1 standard, by name (for messages about the ones not read). */
export const NIFTI_TYPE_NAMES: Readonly<Record<number, string>> = {
  0: "unknown",
  1: "binary (1 bit)",
  2: "uint8",
  4: "int16",
  8: "int32",
  16: "float32",
  32: "complex64",
  64: "float64",
  128: "RGB24",
  256: "int8",
  511: "RGBA32 (float)",
  512: "uint16",
  768: "uint32",
  1024: "int64",
  1280: "uint64",
  1536: "float128",
  1792: "complex128",
  2048: "complex256",
  2304: "RGBA32",
};

export interface NiftiHeader {
  version: 1 | 2;
  littleEndian: boolean;
  /** Bytes of the header proper (348 or 540). */
  headerSize: number;
  /** dim[0..7] as numbers. */
  dims: number[];
  datatypeCode: number;
  bitpix: number;
  pixdim: number[];
  voxOffset: number;
  sclSlope: number;
  sclInter: number;
  qformCode: number;
  sformCode: number;
  quatern: Vec3;
  qoffset: Vec3;
  srow: number[][];
}

/** Bytes a header needs before it can be parsed: 348 + 4 (NIfTI-1) or 540 + 4 (NIfTI-2). */
export function headerBytesNeeded(first4: Uint8Array): number | undefined {
  if (first4.length < 4) return undefined;
  const dv = new DataView(first4.buffer, first4.byteOffset, 4);
  const size = [dv.getInt32(0, true), dv.getInt32(0, false)].find((s) => s === 348 || s === 540);
  return size === undefined ? 0 : size + 4;
}

export function parseNiftiHeader(bytes: Uint8Array, file: string): NiftiHeader {
  if (bytes.length < 348) throw new NiftiError(file, `truncated header: ${bytes.length} bytes, a NIfTI-1 header needs 348`);
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.length);
  let littleEndian: boolean;
  let version: 1 | 2;
  if (dv.getInt32(0, true) === 348) [littleEndian, version] = [true, 1];
  else if (dv.getInt32(0, false) === 348) [littleEndian, version] = [false, 1];
  else if (dv.getInt32(0, true) === 540) [littleEndian, version] = [true, 2];
  else if (dv.getInt32(0, false) === 540) [littleEndian, version] = [false, 2];
  else throw new NiftiError(file, "not a NIfTI file: bad magic (expected 'n+1'/'ni1' or 'n+2') or bad sizeof_hdr");
  const le = littleEndian;
  const text = (at: number, n: number) => String.fromCharCode(...bytes.subarray(at, at + n));
  if (version === 1) {
    const magic = text(344, 4);
    if (magic === "ni1\0") throw new NiftiError(file, "a two-file NIfTI (.hdr/.img pair, magic 'ni1'); only single-file .nii/.nii.gz is read");
    if (magic !== "n+1\0") throw new NiftiError(file, "not a NIfTI file: bad magic (expected 'n+1'/'ni1' or 'n+2') or bad sizeof_hdr");
  } else {
    if (bytes.length < 540) throw new NiftiError(file, `truncated header: ${bytes.length} bytes, a NIfTI-2 header needs 540`);
    if (text(4, 4) !== "n+2\0") {
      throw new NiftiError(
        file,
        text(4, 4) === "ni2\0"
          ? "a two-file NIfTI-2 (.hdr/.img pair); only single-file .nii/.nii.gz is read"
          : "not a NIfTI file: bad magic (expected 'n+1'/'ni1' or 'n+2') or bad sizeof_hdr",
      );
    }
  }
  // The fields come from nifti-reader-js (the package the kit reads NIfTI headers with); the kit checks
  // them and computes the affine by the standard's precedence itself (nifti-reader-js prefers a qform whose
  // code exceeds the sform's, and keeps no srow then), so the srow rows are read here.
  let h: nifti.NIFTI1 | nifti.NIFTI2 | null;
  try {
    h = nifti.readHeader(bytes.slice().buffer as ArrayBuffer) as nifti.NIFTI1 | nifti.NIFTI2 | null;
  } catch (e) {
    throw new NiftiError(file, `unreadable header (${(e as Error).message})`);
  }
  if (!h) throw new NiftiError(file, "unreadable header");
  const srow =
    version === 1
      ? [0, 1, 2].map((r) => [0, 1, 2, 3].map((c) => dv.getFloat32(280 + 16 * r + 4 * c, le)))
      : [0, 1, 2].map((r) => [0, 1, 2, 3].map((c) => dv.getFloat64(400 + 32 * r + 8 * c, le)));
  return {
    version,
    littleEndian,
    headerSize: version === 1 ? 348 : 540,
    dims: Array.from({ length: 8 }, (_, i) => Number(h.dims[i])),
    datatypeCode: h.datatypeCode,
    bitpix: h.numBitsPerVoxel,
    pixdim: Array.from({ length: 8 }, (_, i) => h.pixDims[i]),
    voxOffset: Number(h.vox_offset),
    sclSlope: h.scl_slope,
    sclInter: h.scl_inter,
    qformCode: h.qform_code,
    sformCode: h.sform_code,
    quatern: [h.quatern_b, h.quatern_c, h.quatern_d],
    qoffset: [h.qoffset_x, h.qoffset_y, h.qoffset_z],
    srow,
  };
}

export function quaternToAffine(q: Vec3, offset: Vec3, pixdim: Vec3, qfac: number): Mat4 {
  const [b, c, d] = q;
  const a = Math.sqrt(Math.max(0, 1 - (b * b + c * c + d * d)));
  const r = [
    a * a + b * b - c * c - d * d,
    2 * (b * c - a * d),
    2 * (b * d + a * c),
    2 * (b * c + a * d),
    a * a + c * c - b * b - d * d,
    2 * (c * d - a * b),
    2 * (b * d - a * c),
    2 * (c * d + a * b),
    a * a + d * d - c * c - b * b,
  ];
  const s = [pixdim[0], pixdim[1], pixdim[2] * (qfac < 0 ? -1 : 1)];
  return [
    r[0] * s[0],
    r[1] * s[1],
    r[2] * s[2],
    offset[0],
    r[3] * s[0],
    r[4] * s[1],
    r[5] * s[2],
    offset[1],
    r[6] * s[0],
    r[7] * s[1],
    r[8] * s[2],
    offset[2],
    0,
    0,
    0,
    1,
  ];
}

/** The voxel-to-world affine (row-major 4x4) by the standard's three methods; ambiguity is refused. */
export function headerAffine(h: NiftiHeader, file: string): Mat4 {
  const ndim = h.dims[0];
  // Voxel sizes of the three spatial axes; an axis beyond dim[0] has one voxel and its pixdim is unused.
  const sizes = [1, 2, 3].map((i) => (i <= ndim ? h.pixdim[i] : h.pixdim[i] > 0 ? h.pixdim[i] : 1)) as Vec3;
  const badSizes = () => sizes.some((s) => !(s > 0) || !Number.isFinite(s));
  let a: Mat4;
  if (h.sformCode < 0 || h.qformCode < 0) throw new NiftiError(file, `negative sform_code ${h.sformCode} / qform_code ${h.qformCode}`);
  if (h.sformCode > 0) {
    a = [...h.srow[0], ...h.srow[1], ...h.srow[2], 0, 0, 0, 1];
  } else if (h.qformCode > 0) {
    if (badSizes()) {
      throw new NiftiError(file, `pixdim ${sizes.join(", ")}: voxel sizes must be positive for the qform (method 2); the orientation is ambiguous`);
    }
    a = quaternToAffine(h.quatern, h.qoffset, sizes, h.pixdim[0] < 0 ? -1 : 1);
  } else {
    if (badSizes()) {
      throw new NiftiError(
        file,
        `pixdim ${sizes.join(", ")} with no sform or qform: voxel sizes must be positive (a zero or negative pixdim makes size and orientation ambiguous)`,
      );
    }
    a = [sizes[0], 0, 0, 0, 0, sizes[1], 0, 0, 0, 0, sizes[2], 0, 0, 0, 0, 1];
  }
  if (a.some((v) => !Number.isFinite(v))) throw new NiftiError(file, "affine contains non-finite values");
  const det = a[0] * (a[5] * a[10] - a[6] * a[9]) - a[1] * (a[4] * a[10] - a[6] * a[8]) + a[2] * (a[4] * a[9] - a[5] * a[8]);
  if (!(Math.abs(det) >= 1e-12)) throw new NiftiError(file, "affine is singular (zero voxel size?)");
  return a;
}
