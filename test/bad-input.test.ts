/**
 * Bad input and interrupted runs (issue 12): each class of careless input is either handled correctly
 * or refused with a message naming the file and the problem; nothing is accepted silently.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import fs, { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { syncBuiltinESMExports } from "node:module";
import { gzipSync } from "node:zlib";
import { join } from "node:path";
import { caseIdFromPath, runPrep } from "../src/data/prep/prep.js";
import { parseListFile } from "../src/data/listfile.js";
import { readManifest } from "../src/data/manifest.js";
import { encodeNifti, NiftiError, parseNifti, readNifti, writeNifti } from "../src/data/nifti.js";
import { preprocessCase } from "../src/data/preprocess.js";
import { templateKeyFromPath } from "../src/data/ontology.js";
import { diagonalAffine, type Vec3 } from "../src/data/volume.js";
import { saveCheckpoint, loadCheckpoint } from "../src/train/checkpoint.js";
import { tempDir } from "./helpers.js";

function massive(...args: string[]) {
  return spawnSync(process.execPath, ["bin/massive.js", ...args], { encoding: "utf8", env: { ...process.env, CI: "1" } });
}

const SHAPE: Vec3 = [12, 10, 6];

/** A small CT-like case: air around a 40 HU body, a liver-ish blob labelled 1 (template "03": liver). */
function writeCase(root: string, image: string, label: string, opts: { labelValue?: number; poke?: (d: Float32Array) => void } = {}) {
  const n = SHAPE[0] * SHAPE[1] * SHAPE[2];
  const img = new Float32Array(n).fill(-1000);
  const lab = new Uint8Array(n);
  for (let z = 1; z < 5; z++)
    for (let y = 2; y < 8; y++)
      for (let x = 2; x < 10; x++) {
        const i = x + SHAPE[0] * (y + SHAPE[1] * z);
        img[i] = 40;
        if (x > 4 && x < 8 && y > 3 && y < 7) {
          img[i] = 60;
          lab[i] = opts.labelValue ?? 1;
        }
      }
  opts.poke?.(img);
  writeNifti(join(root, image), { shape: SHAPE, spacing: [2, 2, 2], affine: diagonalAffine([2, 2, 2]), data: img }, { datatype: "float32" });
  writeNifti(join(root, label), { shape: SHAPE, spacing: [2, 2, 2], affine: diagonalAffine([2, 2, 2]), data: lab });
}

function prepList(root: string, name: string, lines: string[], extra: Partial<Parameters<typeof runPrep>[0]> = {}, out = tempDir()) {
  const list = join(root, name);
  writeFileSync(list, lines.join("\n") + "\n");
  const logs: string[] = [];
  const s = runPrep({ list, root, out, spacing: [4, 4, 4], datasetKey: "03", labelMapping: "template", log: (l) => logs.push(l), ...extra });
  return { s, out, logs, list };
}

// ---- 1. non-finite voxels ----

test("item 1: +-Inf voxels are refused at read and at prep, naming the file and the count", () => {
  const root = tempDir();
  writeCase(root, "inf.nii.gz", "inf_seg.nii.gz", { poke: (d) => ((d[5] = Infinity), (d[9] = -Infinity)) });
  assert.throws(
    () => readNifti(join(root, "inf.nii.gz")),
    (e: Error) => {
      assert.match(e.message, /inf\.nii\.gz: contains 2 non-finite voxel\(s\) of 720 \(1 \+Inf, 1 -Inf\)/);
      return true;
    },
  );
  const { s } = prepList(root, "cases_train.txt", ["inf.nii.gz\tinf_seg.nii.gz"]);
  assert.equal(s.prepared, 0);
  assert.equal(s.failed.length, 1);
  assert.match(s.failed[0].error, /inf\.nii\.gz: contains 2 non-finite voxel/);
});

// ---- 2. case id collisions ----

test("item 2: two source files with one case id are refused before anything is prepared, naming both", () => {
  const root = tempDir();
  mkdirSync(join(root, "img"), { recursive: true });
  mkdirSync(join(root, "img_x"), { recursive: true });
  writeCase(root, "img/x_y.nii.gz", "l1.nii.gz");
  writeCase(root, "img_x/y.nii.gz", "l2.nii.gz");
  assert.equal(caseIdFromPath("img/x_y.nii.gz"), caseIdFromPath("img_x/y.nii.gz"));
  const out = tempDir();
  assert.throws(
    () => prepList(root, "a_train.txt", ["img/x_y.nii.gz\tl1.nii.gz", "img_x/y.nii.gz\tl2.nii.gz"], {}, out),
    (e: Error) => {
      assert.match(
        e.message,
        /case id collision: "img\/x_y\.nii\.gz" \(.*a_train\.txt:1\) and "img_x\/y\.nii\.gz" \(.*a_train\.txt:2\) both become case id "img_x_y"/,
      );
      return true;
    },
  );
  assert.equal(existsSync(join(out, "manifest.json")), false, "nothing prepared");
  // Non-ASCII names that map to one id, one already prepared: the second list is refused.
  writeCase(root, "caseé.nii.gz", "l3.nii.gz");
  writeCase(root, "caseü.nii.gz", "l4.nii.gz");
  const first = prepList(root, "b_train.txt", ["caseé.nii.gz\tl3.nii.gz"]);
  assert.equal(first.s.prepared, 1);
  assert.throws(
    () => prepList(root, "c_train.txt", ["caseü.nii.gz\tl4.nii.gz"], {}, first.out),
    /case id collision: "caseü\.nii\.gz" .* already holds for "caseé\.nii\.gz"/,
  );
  // A line listed twice is refused too (it used to count as "already there").
  assert.throws(() => prepList(root, "d_train.txt", ["caseé.nii.gz\tl3.nii.gz", "caseé.nii.gz\tl3.nii.gz"]), /"caseé\.nii\.gz" .* is listed twice/);
});

// ---- 3. spaces in paths ----

test("item 3: a tab-separated line keeps the spaces in its paths", () => {
  const entries = parseListFile("my img/case0002.nii.gz\tmy lab/case0002.nii.gz\n", "l.txt");
  assert.deepEqual(
    entries.map((e) => [e.image, e.label]),
    [["my img/case0002.nii.gz", "my lab/case0002.nii.gz"]],
  );
  // Without a tab the split is ambiguous: refused with a hint rather than read as ".../my".
  assert.throws(() => parseListFile("my img/a.nii.gz lab/a.nii.gz\n", "l.txt"), /l\.txt:1: .*3 column\(s\).*separate image and label with a tab/);
  // The old forms still work.
  assert.deepEqual(
    parseListFile("a.nii.gz b.nii.gz\n", "l.txt").map((e) => e.label),
    ["b.nii.gz"],
  );
  const root = tempDir();
  mkdirSync(join(root, "my img"), { recursive: true });
  writeCase(root, "my img/case0002.nii.gz", "my seg.nii.gz");
  const { s } = prepList(root, "sp_train.txt", ["my img/case0002.nii.gz\tmy seg.nii.gz"]);
  assert.equal(s.prepared, 1, JSON.stringify(s.failed));
  assert.match(massive("prep", "--help").stdout, /split only at tabs/);
});

// ---- 4. a case in both lists ----

test("item 4: a case in both the train and the test list is refused, naming the case and both lists; --split decides", () => {
  const root = tempDir();
  writeCase(root, "a.nii.gz", "a_seg.nii.gz");
  writeCase(root, "b.nii.gz", "b_seg.nii.gz");
  writeFileSync(join(root, "x_train.txt"), "a.nii.gz\ta_seg.nii.gz\nb.nii.gz\tb_seg.nii.gz\n");
  writeFileSync(join(root, "x_test.txt"), "b.nii.gz\tb_seg.nii.gz\n");
  const out = tempDir();
  const args = ["prep", "--dataset-key", "03", "--spacing", "4", "--list", join(root, "x_train.txt"), "--list", join(root, "x_test.txt"), "--out", out];
  const r = massive(...args);
  assert.equal(r.status, 1);
  assert.match(r.stderr, /case "b" \(b\.nii\.gz\) is in both the train list \(.*x_train\.txt:2\) and the test list \(.*x_test\.txt:1\)/);
  assert.equal(existsSync(join(out, "manifest.json")), false, "refused before preparing anything");
  // In two separate runs the manifest remembers the first list.
  assert.equal(massive(...args.slice(0, 7), "--out", out).status, 0);
  const r2 = massive("prep", "--dataset-key", "03", "--spacing", "4", "--list", join(root, "x_test.txt"), "--out", out);
  assert.equal(r2.status, 1);
  assert.match(r2.stderr, /case "b" .* in both the train list \(.*x_train\.txt\) and the test list/);
  const r3 = massive("prep", "--dataset-key", "03", "--spacing", "4", "--list", join(root, "x_test.txt"), "--out", out, "--split", "test");
  assert.equal(r3.status, 0, r3.stderr);
  assert.equal(readManifest(out).cases.find((c) => c.id === "b")!.split, "test");
});

// ---- 12. all-zero labels ----

test("item 12: a case with none of its template's classes is reported at prep", () => {
  const root = tempDir();
  writeCase(root, "z.nii.gz", "z_seg.nii.gz", { labelValue: 0 });
  const { s, logs, out } = prepList(root, "z_train.txt", ["z.nii.gz\tz_seg.nii.gz"]);
  assert.equal(s.prepared, 1);
  assert.deepEqual(s.unlabelled, ["z"]);
  assert.ok(
    logs.some((l) => /z_seg\.nii\.gz: none of template "03"'s classes \(6\) has a voxel.*training skips it/.test(l)),
    logs.join("\n"),
  );
  assert.ok(logs.some((l) => /1 without any labelled voxel \(z\)/.test(l)));
  assert.deepEqual(readManifest(out).cases[0].classesPresent, []);
});

// ---- messages ----

test("messages: a prepared image truncated after prep is prepared again, not 'already there'", () => {
  const root = tempDir();
  writeCase(root, "t.nii.gz", "t_seg.nii.gz");
  const first = prepList(root, "t_train.txt", ["t.nii.gz\tt_seg.nii.gz"]);
  const c = readManifest(first.out).cases[0];
  const f = join(first.out, c.image);
  writeFileSync(f, readFileSync(f).subarray(0, 40));
  const again = prepList(root, "t_train.txt", ["t.nii.gz\tt_seg.nii.gz"], {}, first.out);
  assert.equal(again.s.skipped, 0);
  assert.equal(again.s.prepared, 1);
  assert.ok(
    again.logs.some((l) => /preparing t again: .*t_image\.nii\.gz is 40 bytes, the manifest recorded \d+/.test(l)),
    again.logs.join("\n"),
  );
});

test("messages: BTCV's case number comes from img/case naming only", () => {
  assert.equal(templateKeyFromPath("01_Multi-Atlas_Labeling/img/float64.nii.gz"), "01");
  assert.equal(templateKeyFromPath("01_Multi-Atlas_Labeling/img/img0064.nii.gz"), "01_2");
  assert.equal(templateKeyFromPath("01_Multi-Atlas_Labeling/img/case0061.nii.gz"), "01_2");
  assert.equal(templateKeyFromPath("01_Multi-Atlas_Labeling/img/img0059.nii.gz"), "01");
});

test("messages: a hand-edited manifest without 'image' names the case and the field", () => {
  const root = tempDir();
  writeCase(root, "h.nii.gz", "h_seg.nii.gz");
  const { out } = prepList(root, "h_train.txt", ["h.nii.gz\th_seg.nii.gz"]);
  const file = join(out, "manifest.json");
  const m = JSON.parse(readFileSync(file, "utf8"));
  delete m.cases[0].image;
  writeFileSync(file, JSON.stringify(m));
  assert.throws(() => readManifest(out), /manifest\.json: case #1 \("h"\): "image" must be a non-empty string, got undefined/);
});

test("messages: unknown profile and non-decimal integers are usage errors (exit 2); --out on a file is named", () => {
  let r = massive("phantom", "--profile", "huge", "--out", tempDir());
  assert.equal(r.status, 2);
  assert.match(r.stderr, /unknown profile "huge"/);
  for (const bad of ["1e3", "0x10", "2.0", ""]) {
    r = massive("train", "--strategy", "lm", "--data", tempDir(), "--out", tempDir(), "--memory", bad);
    assert.equal(r.status, 2, `--memory ${bad}: ${r.stderr}`);
    assert.match(r.stderr, /--memory must be a whole number written in decimal digits/);
  }
  const file = join(tempDir(), "afile");
  writeFileSync(file, "x");
  r = massive("phantom", "--profile", "smoke", "--out", file);
  assert.equal(r.status, 2);
  assert.match(r.stderr, /--out .*afile is a file, not a folder/);
  r = massive("prep", "--list", file, "--out", file);
  assert.equal(r.status, 2);
  assert.match(r.stderr, /--out .*afile is a file, not a folder/);
});

// ---- 9. NIfTI geometry ----

/** NIfTI-1 bytes of a small volume, with a header edit. */
function crafted(edit: (v: DataView) => void, shape: Vec3 = [4, 3, 2], data?: Float32Array): Uint8Array {
  const n = shape[0] * shape[1] * shape[2];
  const raw = encodeNifti({ shape, spacing: [1, 1, 1], affine: diagonalAffine([2, 3, 4]), data: data ?? new Float32Array(n).map((_, i) => i) });
  edit(new DataView(raw.buffer, raw.byteOffset, raw.byteLength));
  return raw;
}
const noForms = (v: DataView) => (v.setInt16(252, 0, true), v.setInt16(254, 0, true));

test("item 9: without sform/qform, pixdim is the voxel size (method 1); pixdim <= 0 is refused as ambiguous", () => {
  const ok = parseNifti(crafted(noForms), "m1.nii");
  assert.deepEqual(ok.affine, diagonalAffine([2, 3, 4]));
  for (const [bad, text] of [
    [-2, "-2, 3, 4"],
    [0, "0, 3, 4"],
  ] as const) {
    const bytes = crafted((v) => (noForms(v), v.setFloat32(80, bad, true)));
    assert.throws(
      () => parseNifti(bytes, "m1.nii"),
      (e: Error) => {
        assert.ok(e instanceof NiftiError);
        assert.match(e.message, new RegExp(`m1\\.nii: pixdim ${text} with no sform or qform: voxel sizes must be positive`));
        return true;
      },
    );
  }
  // A qform with a zero pixdim was read as 1 mm before: refused too.
  const q0 = crafted((v) => (v.setInt16(254, 0, true), v.setFloat32(84, 0, true)));
  assert.throws(() => parseNifti(q0, "q.nii"), /q\.nii: pixdim 2, 0, 4: voxel sizes must be positive for the qform/);
  // With an sform, pixdim does not matter.
  assert.deepEqual(
    parseNifti(
      crafted((v) => v.setFloat32(80, -2, true)),
      "s.nii",
    ).affine,
    diagonalAffine([2, 3, 4]),
  );
});

test("item 9: a 4-D file is read only with --volume K; header dims smaller than the data are refused", () => {
  // Three 4x3x2 volumes, the k-th filled with 100 k + voxel index.
  const data = new Float32Array(72).map((_, i) => 100 * Math.floor(i / 24) + (i % 24));
  const four = crafted((v) => (v.setInt16(40, 4, true), v.setInt16(46, 2, true), v.setInt16(48, 3, true)), [4, 3, 6], data);
  assert.throws(() => parseNifti(four, "f.nii"), /f\.nii: a 4-D file with 3 volumes of 4x3x2 .*pass --volume K \(0\.\.2\)/);
  const v1 = parseNifti(four, "f.nii", { volume: 1 });
  assert.deepEqual(v1.shape, [4, 3, 2]);
  assert.deepEqual(
    [...v1.data],
    Array.from({ length: 24 }, (_, i) => 100 + i),
  );
  assert.throws(() => parseNifti(four, "f.nii", { volume: 3 }), /--volume 3 is not in 0\.\.2/);
  assert.throws(
    () =>
      parseNifti(
        crafted(() => {}),
        "three.nii",
        { volume: 2 },
      ),
    /--volume 2: the file has one 3-D volume/,
  );
  // dim[3] = 1 on a file that holds 2 slices: the second slice used to be ignored.
  const short = crafted((v) => v.setInt16(46, 1, true));
  assert.throws(
    () => parseNifti(short, "d.nii"),
    /d\.nii: data length does not match the header: 4x3x1 float32 needs 48 bytes from offset 352, the file has 96 \(more data than the header's dimensions describe\)/,
  );
  assert.throws(() => parseNifti(gzipSync(short), "d.nii.gz"), /d\.nii\.gz: data length does not match the header: .*more data/);
  // Through prep: --volume picks the volume.
  const root = tempDir();
  writeFileSync(
    join(root, "four.nii.gz"),
    gzipSync(
      crafted(
        (v) => (v.setInt16(40, 4, true), v.setInt16(46, 2, true), v.setInt16(48, 3, true)),
        [4, 3, 6],
        data.map((x) => x - 1000),
      ),
    ),
  );
  writeNifti(join(root, "four_seg.nii.gz"), { shape: [4, 3, 2], spacing: [2, 3, 4], affine: diagonalAffine([2, 3, 4]), data: new Uint8Array(24).fill(1) });
  const refused = prepList(root, "f_train.txt", ["four.nii.gz\tfour_seg.nii.gz"]);
  assert.match(refused.s.failed[0]?.error ?? "", /pass --volume K/);
  const picked = prepList(root, "f_train.txt", ["four.nii.gz\tfour_seg.nii.gz"], { read: { volume: 2 } });
  assert.equal(picked.s.prepared, 1, JSON.stringify(picked.s.failed));
});

test("messages: unsupported datatypes are named, not only numbered", () => {
  for (const [code, name] of [
    [32, "complex64"],
    [128, "RGB24"],
    [1024, "int64"],
  ] as const) {
    const bytes = crafted((v) => v.setInt16(70, code, true));
    assert.throws(() => parseNifti(bytes, "t.nii"), new RegExp(`t\\.nii: unsupported datatype ${name} \\(code ${code}\\)`));
  }
});

// ---- 10. large and odd gzip files ----

test("item 10: the gzip size trailer is not trusted; --max-voxels refuses before decompressing", () => {
  const raw = crafted(() => {});
  const gz = Buffer.from(gzipSync(raw));
  // A > 4 GiB file's trailer holds its size modulo 2^32; here a value that fits no size is written.
  const wrapped = Buffer.from(gz);
  wrapped.writeUInt32LE((raw.length + 7) >>> 0, wrapped.length - 4);
  assert.throws(() => parseNifti(wrapped, "w.nii.gz"), /w\.nii\.gz: corrupt gzip stream: the CRC-32 or length in its trailer/);
  assert.deepEqual(
    [...parseNifti(gz, "ok.nii.gz").data],
    Array.from({ length: 24 }, (_, i) => i),
  );
  // A header that says 2048x2048x600 int16 (5 GB) in a few hundred bytes.
  const huge = gzipSync(
    crafted((v) => (v.setInt16(42, 2048, true), v.setInt16(44, 2048, true), v.setInt16(46, 600, true), v.setInt16(70, 4, true), v.setInt16(72, 16, true))),
  );
  const before = process.memoryUsage().arrayBuffers;
  assert.throws(
    () => parseNifti(huge, "h.nii.gz", { maxVoxels: 1e8 }),
    /h\.nii\.gz: 2048x2048x600 = 2516582400 voxels is above the limit of 100000000 \(--max-voxels/,
  );
  // Under the limit, the stream's size still rules out allocating 10 GB for it.
  assert.throws(
    () => parseNifti(huge, "h.nii.gz"),
    /h\.nii\.gz: data length does not match the header: 2048x2048x600 int16 needs 5033164800 bytes, more than a \d+-byte gzip stream can hold/,
  );
  assert.ok(process.memoryUsage().arrayBuffers - before < 64e6, "no volume allocated");
  const r = massive("prep", "--list", join(tempDir(), "none.txt"), "--out", tempDir(), "--max-voxels", "0");
  assert.equal(r.status, 2);
  assert.match(massive("prep", "--help").stdout, /--max-voxels/);
});

test("item 10: a streamed read of a multi-chunk .nii.gz equals the in-memory data", () => {
  const shape: Vec3 = [160, 128, 72]; // 1.47 M voxels: several 4 MiB chunks as float32, odd chunk edges
  const data = new Float32Array(shape[0] * shape[1] * shape[2]).map((_, i) => (i % 2001) - 1000);
  const file = join(tempDir(), "big.nii.gz");
  writeNifti(file, { shape, spacing: [1, 1, 1], affine: diagonalAffine([1, 1, 1]), data }, { datatype: "int16" });
  const back = readNifti(file);
  assert.deepEqual(back.shape, shape);
  for (let i = 0; i < data.length; i += 997) assert.equal(back.data[i], data[i]);
  assert.equal(back.data[data.length - 1], data[data.length - 1]);
});

// ---- 11. not CT, or not TotalSegmentator's CT map ----

test("item 11: an MR image with an MR label map is refused under --label-map totalseg; non-CT images are warned about", () => {
  const root = tempDir();
  const n = SHAPE[0] * SHAPE[1] * SHAPE[2];
  const mr = new Float32Array(n).map((_, i) => 20 + (i % 7));
  const lab = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    if (i % 3 === 0) {
      mr[i] = 400;
      lab[i] = 12; // total_mr: esophagus; the CT map: right upper lung lobe
    }
  }
  writeNifti(join(root, "mr.nii.gz"), { shape: SHAPE, spacing: [2, 2, 2], affine: diagonalAffine([2, 2, 2]), data: mr });
  writeNifti(join(root, "mr_seg.nii.gz"), { shape: SHAPE, spacing: [2, 2, 2], affine: diagonalAffine([2, 2, 2]), data: lab });
  assert.throws(
    () => preprocessCase(join(root, "mr.nii.gz"), join(root, "mr_seg.nii.gz"), { spacing: [4, 4, 4], templateKey: "totalseg", labelMapping: "totalseg" }),
    /mr_seg\.nii\.gz: not TotalSegmentator's CT \("total"\) label map: label 12 \(lung lobes in the CT map\) has mean 400 HU.*does not look like CT: intensities 20\.\.400: no air/,
  );
  // Another modality with template labels goes through, with a warning in the log.
  lab.fill(0);
  lab[40] = 1;
  writeNifti(join(root, "mr_seg2.nii.gz"), { shape: SHAPE, spacing: [2, 2, 2], affine: diagonalAffine([2, 2, 2]), data: lab });
  const { s, logs } = prepList(root, "mr_train.txt", ["mr.nii.gz\tmr_seg2.nii.gz"]);
  assert.equal(s.failed.length, 0);
  assert.ok(
    logs.some((l) => /warning: .*mr\.nii\.gz: does not look like CT \(intensities 20\.\.400: no air near -1000 HU\)/.test(l)),
    logs.join("\n"),
  );
});

// ---- disk full and leftovers ----

/** Make every writeFileSync write a few bytes and then fail as a full disk does. */
function withFullDisk(fn: () => void) {
  const real = fs.writeFileSync;
  fs.writeFileSync = ((path: fs.PathOrFileDescriptor) => {
    real(path, "partial");
    throw Object.assign(new Error("ENOSPC: no space left on device, write"), { code: "ENOSPC" });
  }) as typeof fs.writeFileSync;
  syncBuiltinESMExports();
  try {
    fn();
  } finally {
    fs.writeFileSync = real;
    syncBuiltinESMExports();
  }
}

test("messages: a full disk names the file being written, and leaves no .tmp-PID file or folder", () => {
  const dir = tempDir();
  const file = join(dir, "x.nii.gz");
  const vol = { shape: SHAPE, spacing: [2, 2, 2] as Vec3, affine: diagonalAffine([2, 2, 2]), data: new Float32Array(720) };
  withFullDisk(() => assert.throws(() => writeNifti(file, vol), /x\.nii\.gz: cannot write \(no space left on device \(disk full\)\)/));
  assert.deepEqual(readdirSync(dir), []);
  const run = tempDir();
  saveCheckpoint(run, { it: 1 }, [{ name: "w", shape: [2], values: new Float32Array([1, 2]) }]);
  withFullDisk(() =>
    assert.throws(
      () => saveCheckpoint(run, { it: 2 }, [{ name: "w", shape: [2], values: new Float32Array([3, 4]) }]),
      /checkpoint\.tmp-\d+: cannot write the checkpoint \(no space left on device \(disk full\)\); the previous checkpoint is kept/,
    ),
  );
  assert.deepEqual(readdirSync(run), ["checkpoint"]);
  assert.equal(loadCheckpoint<{ it: number }>(run).state.it, 1);
});

test("messages: .tmp-PID files left by a killed prep are removed by the next one", () => {
  const root = tempDir();
  writeCase(root, "k.nii.gz", "k_seg.nii.gz");
  const out = tempDir();
  writeFileSync(join(out, "k_image.nii.gz.tmp-99999"), "half a file");
  const { logs } = prepList(root, "k_train.txt", ["k.nii.gz\tk_seg.nii.gz"], {}, out);
  assert.ok(!readdirSync(out).some((n) => n.includes(".tmp-")));
  assert.ok(logs.some((l) => /removed .*k_image\.nii\.gz\.tmp-99999, left by a killed run/.test(l)));
});
