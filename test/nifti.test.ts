import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { gunzipSync, gzipSync } from "node:zlib";
import { affineToQuatern, DATATYPES, encodeNifti, quaternToAffine, readLabelNifti, readNifti, writeNifti, type DataTypeName } from "../src/data/nifti.js";
import { axisCodes, type Mat4, type Volume } from "../src/data/volume.js";
import { preprocessCase } from "../src/data/preprocess.js";
import { Rng } from "../src/util/rng.js";
import { realCtPaths, tempDir } from "./helpers.js";

// An oblique, LPS-like affine with unequal voxel sizes: round trips must keep all of it.
const ROT: Mat4 = (() => {
  const c = Math.cos(0.3),
    s = Math.sin(0.3);
  const sp = [0.8, 1.2, 2.5];
  return [-c * sp[0], s * sp[1], 0, 12.5, -s * sp[0], -c * sp[1], 0, -40.25, 0, 0, sp[2], 77, 0, 0, 0, 1];
})();

const RANGES: Record<DataTypeName, [number, number, boolean]> = {
  uint8: [0, 255, true],
  int8: [-128, 127, true],
  int16: [-1024, 3071, true],
  uint16: [0, 65535, true],
  int32: [-100000, 100000, true],
  uint32: [0, 4000000, true],
  float32: [-1000, 1000, false],
  float64: [-1e6, 1e6, false],
};

for (const dtype of Object.keys(DATATYPES) as DataTypeName[]) {
  for (const ext of [".nii", ".nii.gz"]) {
    test(`NIfTI round trip ${dtype} ${ext}: values and affine preserved`, () => {
      const rng = new Rng(7);
      const shape: [number, number, number] = [7, 5, 3];
      const [lo, hi, isInt] = RANGES[dtype];
      const data = new Float32Array(105).map(() => {
        const v = rng.uniform(lo, hi);
        return isInt ? Math.round(v) : v;
      });
      const vol: Volume = { shape, spacing: [0.8, 1.2, 2.5], affine: ROT, data };
      const file = join(tempDir(), `x${ext}`);
      writeNifti(file, vol, { datatype: dtype });
      const back = readNifti(file);
      assert.equal(back.datatype, dtype);
      assert.deepEqual(back.shape, shape);
      for (let i = 0; i < data.length; i++) assert.ok(Math.abs(back.data[i] - data[i]) <= Math.abs(data[i]) * 1e-6 + 1e-6, `voxel ${i}`);
      back.affine.forEach((v, i) => assert.ok(Math.abs(v - ROT[i]) < 1e-4, `affine[${i}] ${v} vs ${ROT[i]}`));
      back.spacing.forEach((v, i) => assert.ok(Math.abs(v - [0.8, 1.2, 2.5][i]) < 1e-5));
    });
  }
}

test("qform alone gives the same affine as the sform (quaternion round trip)", () => {
  const { q, qfac, pixdim } = affineToQuatern(ROT);
  const a = quaternToAffine(q, [ROT[3], ROT[7], ROT[11]], pixdim, qfac);
  a.forEach((v, i) => assert.ok(Math.abs(v - ROT[i]) < 1e-9, `affine[${i}]`));
  // And a file whose sform_code is 0 is read through its qform.
  const raw = encodeNifti({ shape: [2, 2, 2], spacing: [1, 1, 1], affine: ROT, data: new Float32Array(8).fill(3) });
  new DataView(raw.buffer).setInt16(254, 0, true);
  const file = join(tempDir(), "qform.nii");
  writeFileSync(file, raw);
  readNifti(file).affine.forEach((v, i) => assert.ok(Math.abs(v - ROT[i]) < 1e-4));
});

test("scl_slope and scl_inter are applied", () => {
  const raw = encodeNifti(
    { shape: [2, 1, 1], spacing: [1, 1, 1], affine: [1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1], data: new Float32Array([10, 20]) },
    { datatype: "int16" },
  );
  const v = new DataView(raw.buffer);
  v.setFloat32(112, 0.5, true);
  v.setFloat32(116, -3, true);
  const file = join(tempDir(), "scaled.nii");
  writeFileSync(file, raw);
  assert.deepEqual([...readNifti(file).data], [2, 7]);
});

test("the shared real CT reads as 122x101x30, 3 mm, RAS, HU in [-1100, 1207]", () => {
  const ct = readNifti(realCtPaths().ct);
  assert.deepEqual(ct.shape, [122, 101, 30]);
  ct.spacing.forEach((s) => assert.ok(Math.abs(s - 3) < 1e-4));
  assert.equal(axisCodes(ct.affine), "RAS");
  assert.equal(ct.datatype, "int16");
  let lo = Infinity,
    hi = -Infinity;
  for (const v of ct.data) {
    lo = Math.min(lo, v);
    hi = Math.max(hi, v);
  }
  assert.ok(lo >= -1100 && hi <= 1207, `HU range [${lo}, ${hi}]`);
  assert.ok(hi - lo > 1500, "a real CT spans air to bone");
});

test("the real CT's liver (TotalSegmentator id 5) becomes class 6", () => {
  const { ct, seg } = realCtPaths();
  const raw = readLabelNifti(seg);
  const liverVoxels = raw.data.reduce((n, v) => n + (v === 5 ? 1 : 0), 0);
  const p = preprocessCase(ct, seg, { spacing: [3, 3, 3], templateKey: "totalseg", labelMapping: "totalseg", cropForeground: false });
  const class6 = p.label.data.reduce((n, v) => n + (v === 6 ? 1 : 0), 0);
  assert.equal(class6, liverVoxels);
  // Voxel by voxel: every liver voxel is class 6, no other voxel is.
  for (let i = 0; i < raw.data.length; i++) assert.equal(raw.data[i] === 5, p.label.data[i] === 6);
  assert.ok(p.classesPresent.includes(6) && p.classesPresent.includes(1) && p.classesPresent.includes(8));
});

// ---- bad input: each gets a clear error naming the file and the problem ----

function assertNiftiError(fn: () => unknown, file: string, problem: RegExp) {
  assert.throws(fn, (e: Error) => {
    assert.ok(e.message.includes(file), `message names the file: ${e.message}`);
    assert.match(e.message, problem);
    return true;
  });
}

function smallVolumeFile(name: string, data = new Float32Array(24).map((_, i) => i - 5)): string {
  const file = join(tempDir(), name);
  writeNifti(file, { shape: [4, 3, 2], spacing: [1, 1, 1], affine: [1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1], data });
  return file;
}

test("bad input: truncated gzip", () => {
  const file = smallVolumeFile("t.nii.gz");
  const bytes = readFileSync(file);
  writeFileSync(file, bytes.subarray(0, Math.floor(bytes.length / 2)));
  assertNiftiError(() => readNifti(file), file, /corrupt or truncated gzip|truncated|data length/);
});

test("bad input: bad magic", () => {
  const file = smallVolumeFile("m.nii");
  const bytes = readFileSync(file);
  bytes.write("xyz\0", 344, "latin1");
  writeFileSync(file, bytes);
  assertNiftiError(() => readNifti(file), file, /bad magic/);
});

test("bad input: data shorter than the header says", () => {
  const file = smallVolumeFile("short.nii");
  const bytes = readFileSync(file);
  writeFileSync(file, bytes.subarray(0, bytes.length - 10));
  assertNiftiError(() => readNifti(file), file, /data length does not match the header/);
  // Same inside a valid gzip stream.
  const gz = file + ".gz";
  writeFileSync(gz, gzipSync(gunzipSync(gzipSync(bytes.subarray(0, bytes.length - 10)))));
  assertNiftiError(() => readNifti(gz), gz, /data length does not match the header/);
});

test("bad input: empty file and header-only garbage", () => {
  const file = join(tempDir(), "empty.nii");
  writeFileSync(file, Buffer.alloc(0));
  assertNiftiError(() => readNifti(file), file, /empty/);
  writeFileSync(file, Buffer.alloc(100, 7));
  assertNiftiError(() => readNifti(file), file, /truncated header/);
});

test("bad input: NaN voxels", () => {
  const data = new Float32Array(24).fill(1);
  data[5] = NaN;
  data[9] = NaN;
  const file = smallVolumeFile("nan.nii.gz", data);
  assertNiftiError(() => readNifti(file), file, /2 NaN voxel/);
});

test("bad input: image and label of different shapes or affines", () => {
  const img = smallVolumeFile("img.nii.gz");
  const lab = join(tempDir(), "lab.nii.gz");
  writeNifti(lab, { shape: [4, 3, 3], spacing: [1, 1, 1], affine: [1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1], data: new Uint8Array(36) });
  const opts = { spacing: [1, 1, 1] as [number, number, number], templateKey: "01", labelMapping: "template" as const };
  assertNiftiError(() => preprocessCase(img, lab, opts), lab, /shape 4x3x3 does not match image .*4x3x2/);
  writeNifti(lab, { shape: [4, 3, 2], spacing: [1, 1, 1], affine: [1, 0, 0, 5, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1], data: new Uint8Array(24) });
  assertNiftiError(() => preprocessCase(img, lab, opts), lab, /affine does not match/);
});

test("bad input: label values that are not integers or have no class in the template", () => {
  const img = smallVolumeFile("img.nii.gz");
  const lab = smallVolumeFile("lab.nii.gz", new Float32Array(24).fill(1.5));
  assertNiftiError(() => readLabelNifti(lab), lab, /non-integer/);
  const lab2 = join(tempDir(), "lab2.nii.gz");
  const d = new Uint8Array(24);
  d[3] = 3; // template "03" (CHAOS) has one class: label 3 means nothing
  writeNifti(lab2, { shape: [4, 3, 2], spacing: [1, 1, 1], affine: [1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1], data: d });
  assertNiftiError(
    () => preprocessCase(img, lab2, { spacing: [1, 1, 1], templateKey: "03", labelMapping: "template" }),
    lab2,
    /label value 3 at voxel 3 has no class in dataset "03"/,
  );
});
