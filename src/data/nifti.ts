/**
 * NIfTI-1/2 reading and NIfTI-1 writing (.nii or .nii.gz).
 * Reading returns float32 values with scl_slope/scl_inter applied and the sform (else qform, else
 * pixdim) affine (nifti-header.ts). It streams: the file is read, gunzipped and converted in chunks
 * into one Float32Array, so memory stays near one copy of the volume, and nothing is allocated for a
 * volume above the voxel limit. The gzip size trailer is never trusted (it is the size modulo 4 GiB).
 * Every failure is a NiftiError naming the file and the problem.
 */
import { closeSync, fstatSync, mkdirSync, openSync, readSync } from "node:fs";
import { dirname } from "node:path";
import { crc32, gzipSync } from "node:zlib";
import { Gunzip } from "fflate";
import { NiftiError } from "./nifti-error.js";
import { headerAffine, NIFTI_TYPE_NAMES, parseNiftiHeader, quaternToAffine, type NiftiHeader } from "./nifti-header.js";
import { writeFileAtomic } from "../util/atomic.js";
import { spacingFromAffine, type Mat4, type Vec3, type Volume, type VoxelArray } from "./volume.js";

export { NiftiError };
export { quaternToAffine };

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

const NAME_OF_CODE = new Map<number, DataTypeName>(Object.entries(DATATYPES).map(([name, d]) => [d.code, name as DataTypeName]));

export interface NiftiImage extends Volume<Float32Array> {
  /** The file's datatype, e.g. "int16". */
  datatype: DataTypeName;
  /** The path it was read from. */
  file: string;
}

/** Default --max-voxels: 3e9 voxels (12 GB as float32), above a 2048x2048x600 CT. */
export const DEFAULT_MAX_VOXELS = 3_000_000_000;

export interface ReadOptions {
  /** Reject NaN and +-Inf voxels (default true: either poisons resampling and training silently). */
  rejectNaN?: boolean;
  /** Files with more than one 3-D volume (4-D and up): the 0-based volume to read; without it they are refused. */
  volume?: number;
  /** Refuse a volume of more voxels than this before reading its data (default DEFAULT_MAX_VOXELS). */
  maxVoxels?: number;
}

/** "contains 2 non-finite voxel(s) of 24 (1 NaN, 1 +Inf)", or undefined when every voxel is finite. */
export function nonFiniteProblem(data: Float32Array): string | undefined {
  let nan = 0,
    pos = 0,
    neg = 0;
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
  const parts = [
    [nan, "NaN"],
    [pos, "+Inf"],
    [neg, "-Inf"],
  ]
    .filter(([k]) => k)
    .map(([k, name]) => `${k} ${name}`);
  return `contains ${total} non-finite voxel(s) of ${data.length} (${parts.join(", ")}); finite values only`;
}

/** Where the voxels of the volume to read lie in the (uncompressed) byte stream. */
interface Layout {
  header: NiftiHeader;
  shape: Vec3;
  name: DataTypeName;
  bpv: number;
  /** Voxels per 3-D volume. */
  n: number;
  volumes: number;
  dataStart: number;
  dataEnd: number;
  /** vox_offset + every volume: the stream's length by the header. */
  expectedEnd: number;
}

function describeType(code: number): string {
  const name = NIFTI_TYPE_NAMES[code];
  return name ? `${name} (code ${code})` : `code ${code}, not a NIfTI datatype`;
}

function planLayout(h: NiftiHeader, file: string, options: ReadOptions): Layout {
  const ndim = h.dims[0];
  if (!(ndim >= 1 && ndim <= 7)) throw new NiftiError(file, `header dim[0] = ${ndim} is not in 1..7`);
  const dims = h.dims.slice(1, ndim + 1);
  if (dims.some((d) => !(d >= 1) || !Number.isSafeInteger(d))) throw new NiftiError(file, `bad dimensions ${JSON.stringify(dims)}`);
  const shape = [0, 1, 2].map((i) => dims[i] ?? 1) as Vec3;
  const volumes = dims.slice(3).reduce((p, d) => p * d, 1);
  const name = NAME_OF_CODE.get(h.datatypeCode);
  if (!name) {
    throw new NiftiError(file, `unsupported datatype ${describeType(h.datatypeCode)}; readable: ${Object.keys(DATATYPES).join(", ")}`);
  }
  const bpv = DATATYPES[name].bytes;
  if (h.bitpix !== bpv * 8) throw new NiftiError(file, `bitpix ${h.bitpix} does not match datatype ${name} (${bpv * 8})`);
  const n = shape[0] * shape[1] * shape[2];
  const max = options.maxVoxels ?? DEFAULT_MAX_VOXELS;
  if (n > max) {
    throw new NiftiError(
      file,
      `${shape.join("x")} = ${n} voxels is above the limit of ${max} (--max-voxels; ${((n * 4) / 1e9).toFixed(1)} GB as float32); raise --max-voxels if the machine has the memory`,
    );
  }
  let k = 0;
  if (volumes > 1) {
    if (options.volume === undefined) {
      throw new NiftiError(
        file,
        `a ${ndim}-D file with ${volumes} volumes of ${shape.join("x")} (dims ${dims.join("x")}); pass --volume K (0..${volumes - 1}) to read one`,
      );
    }
    k = options.volume;
  } else if (options.volume !== undefined && options.volume !== 0) {
    throw new NiftiError(file, `--volume ${options.volume}: the file has one 3-D volume (volume 0)`);
  }
  if (!Number.isInteger(k) || k < 0 || k >= volumes) throw new NiftiError(file, `--volume ${k} is not in 0..${volumes - 1}`);
  const offset = Math.round(h.voxOffset);
  if (!Number.isFinite(h.voxOffset) || offset < h.headerSize) {
    throw new NiftiError(file, `vox_offset ${h.voxOffset} is not a position after the ${h.headerSize}-byte header`);
  }
  const dataStart = offset + k * n * bpv;
  return { header: h, shape, name, bpv, n, volumes, dataStart, dataEnd: dataStart + n * bpv, expectedEnd: offset + volumes * n * bpv };
}

const HOST_LE = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

type TypedCtor = new (buffer: ArrayBufferLike, byteOffset: number, length: number) => ArrayLike<number>;
const TYPED: Record<DataTypeName, TypedCtor> = {
  uint8: Uint8Array,
  int8: Int8Array,
  int16: Int16Array,
  uint16: Uint16Array,
  int32: Int32Array,
  uint32: Uint32Array,
  float32: Float32Array,
  float64: Float64Array,
};

/** Bytes in, one volume out: header, then the voxels of the selected volume converted as they arrive. */
class NiftiDecoder {
  private head = new Uint8Array(544);
  private headLen = 0;
  private layout?: Layout;
  /** Bytes of the stream consumed so far. */
  private pos = 0;
  private out?: Float32Array;
  private voxel = 0;
  private carry = new Uint8Array(8);
  private carryLen = 0;
  private slope = 1;
  private inter = 0;

  constructor(
    private readonly file: string,
    private readonly options: ReadOptions,
    /** Size of the input: the stream's exact length (plain file) or its compressed size (gzip). */
    private readonly source: { bytes: number; gzip: boolean },
  ) {}

  push(chunk: Uint8Array): void {
    let i = 0;
    if (!this.layout) {
      i = this.takeHeader(chunk);
      if (!this.layout) return;
    }
    const L = this.layout;
    while (i < chunk.length) {
      const left = chunk.length - i;
      if (this.pos < L.dataStart) {
        const k = Math.min(left, L.dataStart - this.pos);
        i += k;
        this.pos += k;
      } else if (this.pos < L.dataEnd) {
        const k = Math.min(left, L.dataEnd - this.pos);
        this.decode(chunk.subarray(i, i + k));
        i += k;
        this.pos += k;
      } else {
        this.pos += left; // later volumes, or bytes past what the header describes (finish() judges)
        i = chunk.length;
      }
    }
  }

  /** Collect header bytes; once complete, plan the layout and allocate. Returns bytes of `chunk` used. */
  private takeHeader(chunk: Uint8Array): number {
    let used = 0;
    const need = () => {
      if (this.headLen < 4) return 4;
      const dv = new DataView(this.head.buffer, 0, 4);
      // A bad sizeof_hdr is judged on a whole NIfTI-1 header (a short file: "truncated header").
      return [dv.getInt32(0, true), dv.getInt32(0, false)].find((s) => s === 348 || s === 540) ?? 348;
    };
    while (used < chunk.length && this.headLen < need()) {
      const k = Math.min(chunk.length - used, need() - this.headLen);
      this.head.set(chunk.subarray(used, used + k), this.headLen);
      this.headLen += k;
      used += k;
    }
    if (this.headLen < 4 || this.headLen < need()) {
      this.pos += used;
      return used;
    }
    const h = parseNiftiHeader(this.head.subarray(0, this.headLen), this.file);
    this.layout = planLayout(h, this.file, this.options);
    // Before allocating: can the input hold what the header describes? (Deflate inflates at most ~1032:1.)
    const L = this.layout;
    if (!this.source.gzip && this.source.bytes !== L.expectedEnd) this.lengthMismatch(this.source.bytes);
    if (this.source.gzip && L.expectedEnd > this.source.bytes * 1032 + 4096) {
      throw new NiftiError(
        this.file,
        `data length does not match the header: ${this.what()} needs ${L.expectedEnd - Math.round(h.voxOffset)} bytes, ` +
          `more than a ${this.source.bytes}-byte gzip stream can hold (truncated, or wrong dimensions)`,
      );
    }
    this.out = new Float32Array(this.layout.n);
    this.slope = Number.isFinite(h.sclSlope) && h.sclSlope !== 0 ? h.sclSlope : 1;
    this.inter = Number.isFinite(h.sclInter) ? h.sclInter : 0;
    this.pos += used;
    return used;
  }

  private decode(bytes: Uint8Array): void {
    const { bpv } = this.layout!;
    let i = 0;
    if (this.carryLen > 0) {
      const k = Math.min(bpv - this.carryLen, bytes.length);
      this.carry.set(bytes.subarray(0, k), this.carryLen);
      this.carryLen += k;
      i = k;
      if (this.carryLen < bpv) return;
      this.convert(this.carry.subarray(0, bpv));
      this.carryLen = 0;
    }
    const whole = Math.floor((bytes.length - i) / bpv) * bpv;
    if (whole > 0) this.convert(bytes.subarray(i, i + whole));
    i += whole;
    if (i < bytes.length) {
      this.carry.set(bytes.subarray(i), 0);
      this.carryLen = bytes.length - i;
    }
  }

  /** Whole voxels to float32, scaled. */
  private convert(bytes: Uint8Array): void {
    const { name, bpv, header } = this.layout!;
    const le = header.littleEndian;
    if (le === HOST_LE && bytes.byteOffset % bpv === 0) {
      // The common case: a typed view of the bytes, no per-voxel DataView call.
      const src = new TYPED[name](bytes.buffer, bytes.byteOffset, bytes.length / bpv);
      const out = this.out!;
      const base = this.voxel;
      const { slope, inter } = this;
      if (slope === 1 && inter === 0) for (let j = 0; j < src.length; j++) out[base + j] = src[j];
      else for (let j = 0; j < src.length; j++) out[base + j] = src[j] * slope + inter;
      this.voxel += src.length;
      return;
    }
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.length);
    const out = this.out!;
    const count = bytes.length / bpv;
    const base = this.voxel;
    const get: (j: number) => number = {
      uint8: (j: number) => view.getUint8(j),
      int8: (j: number) => view.getInt8(j),
      int16: (j: number) => view.getInt16(j * 2, le),
      uint16: (j: number) => view.getUint16(j * 2, le),
      int32: (j: number) => view.getInt32(j * 4, le),
      uint32: (j: number) => view.getUint32(j * 4, le),
      float32: (j: number) => view.getFloat32(j * 4, le),
      float64: (j: number) => view.getFloat64(j * 8, le),
    }[name];
    const { slope, inter } = this;
    if (slope === 1 && inter === 0) for (let j = 0; j < count; j++) out[base + j] = get(j);
    else for (let j = 0; j < count; j++) out[base + j] = get(j) * slope + inter;
    this.voxel += count;
  }

  private what(): string {
    const L = this.layout!;
    return `${L.volumes > 1 ? `${L.volumes} volumes of ` : ""}${L.shape.join("x")} ${L.name}`;
  }

  private lengthMismatch(streamBytes: number): never {
    const L = this.layout!;
    const offset = Math.round(L.header.voxOffset);
    const have = Math.max(0, streamBytes - offset);
    const need = L.expectedEnd - offset;
    throw new NiftiError(
      this.file,
      `data length does not match the header: ${this.what()} needs ${need} bytes from offset ${offset}, the file has ${have}` +
        (have > need ? " (more data than the header's dimensions describe)" : " (truncated?)"),
    );
  }

  finish(): NiftiImage {
    if (!this.layout) {
      if (this.pos === 0) throw new NiftiError(this.file, "file is empty");
      throw new NiftiError(this.file, `truncated header: ${this.pos} bytes, a NIfTI-1 header needs 348`);
    }
    const L = this.layout;
    if (this.pos !== L.expectedEnd) this.lengthMismatch(this.pos);
    const out = this.out!;
    if (this.options.rejectNaN !== false) {
      const problem = nonFiniteProblem(out);
      if (problem) throw new NiftiError(this.file, problem);
    }
    const affine = headerAffine(L.header, this.file);
    return { shape: L.shape, spacing: spacingFromAffine(affine), affine, data: out, datatype: L.name, file: this.file };
  }
}

const CHUNK = 1 << 22;

function isGzip(first: Uint8Array): boolean {
  return first.length >= 2 && first[0] === 0x1f && first[1] === 0x8b;
}

/**
 * Feed a byte source (chunks in order; `size` bytes in all) through gunzip if it is gzip, into a decoder.
 * Gzip: the CRC-32 and the size modulo 2^32 in the trailer are checked after the fact, never used as the size.
 */
function decodeStream(file: string, options: ReadOptions, size: number, next: () => Uint8Array | undefined): NiftiImage {
  let chunk = next();
  if (!chunk || chunk.length === 0) throw new NiftiError(file, "file is empty");
  const gzip = isGzip(chunk);
  const dec = new NiftiDecoder(file, options, { bytes: size, gzip });
  if (!gzip) {
    for (; chunk; chunk = next()) dec.push(chunk);
    return dec.finish();
  }
  let ended = false;
  let crc = 0;
  let total = 0;
  const tail = new Uint8Array(8);
  const gz = new Gunzip((data, final) => {
    crc = crc32(data, crc);
    total += data.length;
    dec.push(data);
    if (final) ended = true;
  });
  try {
    for (let c: Uint8Array | undefined = chunk; c;) {
      const following = next();
      if (c.length >= 8) tail.set(c.subarray(c.length - 8));
      else tail.set([...tail.subarray(c.length), ...c]);
      gz.push(c, following === undefined);
      c = following;
    }
  } catch (e) {
    if (e instanceof NiftiError) throw e;
    throw new NiftiError(file, `corrupt or truncated gzip stream (${(e as Error).message})`);
  }
  if (!ended) throw new NiftiError(file, "corrupt or truncated gzip stream (it ends early)");
  const dv = new DataView(tail.buffer);
  if (dv.getUint32(0, true) !== crc >>> 0 || dv.getUint32(4, true) !== total % 2 ** 32) {
    throw new NiftiError(
      file,
      "corrupt gzip stream: the CRC-32 or length in its trailer does not match the data (damaged, concatenated, or with bytes appended)",
    );
  }
  return dec.finish();
}

/** Read a .nii or .nii.gz file (streamed: memory near one float32 copy of the volume). */
export function readNifti(file: string, options: ReadOptions = {}): NiftiImage {
  let fd: number;
  try {
    fd = openSync(file, "r");
  } catch (e) {
    throw new NiftiError(file, `cannot read file (${(e as Error).message})`);
  }
  try {
    const buf = new Uint8Array(CHUNK);
    return decodeStream(file, options, fstatSync(fd).size, () => {
      let got: number;
      try {
        got = readSync(fd, buf, 0, CHUNK, null);
      } catch (e) {
        throw new NiftiError(file, `cannot read file (${(e as Error).message})`);
      }
      return got > 0 ? buf.subarray(0, got) : undefined;
    });
  } finally {
    closeSync(fd);
  }
}

/** Read NIfTI bytes held in memory (.nii or .nii.gz content). */
export function parseNifti(input: ArrayBuffer | Uint8Array, file: string, options: ReadOptions = {}): NiftiImage {
  const bytes = input instanceof Uint8Array ? input : new Uint8Array(input);
  let at = 0;
  return decodeStream(file, options, bytes.length, () => {
    if (at >= bytes.length) return undefined;
    const c = bytes.subarray(at, Math.min(bytes.length, at + CHUNK));
    at += c.length;
    return c;
  });
}

/** Rotation part of an affine as a NIfTI quaternion (b, c, d) and qfac, after removing voxel sizes. */
export function affineToQuatern(a: Mat4): { q: Vec3; qfac: number; pixdim: Vec3 } {
  const sp = spacingFromAffine(a);
  let r = [0, 1, 2].map((i) => [0, 1, 2].map((j) => a[i * 4 + j] / sp[j]));
  const det =
    r[0][0] * (r[1][1] * r[2][2] - r[1][2] * r[2][1]) - r[0][1] * (r[1][0] * r[2][2] - r[1][2] * r[2][0]) + r[0][2] * (r[1][0] * r[2][1] - r[1][1] * r[2][0]);
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
export function readLabelNifti(file: string, options: Pick<ReadOptions, "maxVoxels"> = {}): Volume<Uint8Array> & { file: string; maxValue: number } {
  const img = readNifti(file, { maxVoxels: options.maxVoxels });
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
