/**
 * Fuzz (issue 12): a few hundred seeded mutations of NIfTI headers and bodies, plain and gzipped,
 * through the reader. Each is either read correctly or refused with a NiftiError naming the file:
 * no other exception type, no hang, nothing above the voxel limit.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { gzipSync } from "node:zlib";
import { encodeNifti, NiftiError, parseNifti, type DataTypeName, type NiftiImage } from "../src/data/nifti.js";
import { diagonalAffine, type Mat4, type Vec3 } from "../src/data/volume.js";
import { Rng } from "../src/util/rng.js";

const MAX_VOXELS = 1 << 16;
const CASES = 400;

interface Base {
  bytes: Uint8Array;
  image: NiftiImage;
}

const OBLIQUE: Mat4 = [-0.9, 0.2, 0, 12, -0.2, -0.9, 0, -40, 0, 0, 2.5, 77, 0, 0, 0, 1];

function bases(): Base[] {
  const rng = new Rng(2024);
  const out: Base[] = [];
  const specs: [DataTypeName, Vec3, Mat4][] = [
    ["int16", [7, 5, 3], OBLIQUE],
    ["float32", [4, 4, 4], diagonalAffine([1.5, 1.5, 3])],
    ["uint8", [9, 2, 5], diagonalAffine([1, 1, 1], [5, -5, 0])],
    ["float64", [3, 3, 2], OBLIQUE],
    ["int32", [6, 1, 1], diagonalAffine([2, 2, 2])],
  ];
  for (const [dtype, shape, affine] of specs) {
    const n = shape[0] * shape[1] * shape[2];
    const data = new Float32Array(n).map(() => Math.round(rng.uniform(0, 200)));
    const bytes = encodeNifti({ shape, spacing: [1, 1, 1], affine, data }, { datatype: dtype });
    out.push({ bytes, image: parseNifti(bytes, "base.nii") });
  }
  return out;
}

/** Header fields (offset, kind) whose values the mutations push to extremes. */
const FIELDS: [number, "i16" | "f32"][] = [
  [0, "f32"],
  [40, "i16"],
  [42, "i16"],
  [44, "i16"],
  [46, "i16"],
  [48, "i16"],
  [54, "i16"],
  [70, "i16"],
  [72, "i16"],
  [76, "f32"],
  [80, "f32"],
  [84, "f32"],
  [88, "f32"],
  [108, "f32"],
  [112, "f32"],
  [116, "f32"],
  [252, "i16"],
  [254, "i16"],
  [256, "f32"],
  [260, "f32"],
  [264, "f32"],
  [280, "f32"],
  [300, "f32"],
  [320, "f32"],
];
const EXTREMES = [0, -1, 1, 2, 3, 4, 7, 8, 16, 64, 255, 256, 348, 352, 32767, -32768, 1e6, 1e30, -1e30, NaN, Infinity, -Infinity, 0.5, -2];

type Mutation = { name: string; apply(b: Uint8Array, rng: Rng): Uint8Array; harmless?: boolean };

const MUTATIONS: Mutation[] = [
  {
    name: "header field extreme",
    apply(b, rng) {
      const c = b.slice();
      const [off, kind] = FIELDS[rng.int(FIELDS.length)];
      const v = EXTREMES[rng.int(EXTREMES.length)];
      const dv = new DataView(c.buffer);
      if (kind === "i16") dv.setInt16(off, Number.isFinite(v) ? Math.max(-32768, Math.min(32767, Math.trunc(v))) : 0, true);
      else dv.setFloat32(off, v, true);
      return c;
    },
  },
  {
    name: "random header bytes",
    apply(b, rng) {
      const c = b.slice();
      for (let k = 1 + rng.int(6); k > 0; k--) c[rng.int(352)] = rng.int(256);
      return c;
    },
  },
  {
    name: "description and aux_file bytes (ignored by the reader)",
    harmless: true,
    apply(b, rng) {
      const c = b.slice();
      for (let k = 1 + rng.int(20); k > 0; k--) c[148 + rng.int(104)] = rng.int(256);
      return c;
    },
  },
  {
    name: "truncated",
    apply(b, rng) {
      return b.slice(0, rng.int(b.length));
    },
  },
  {
    name: "bytes appended",
    apply(b, rng) {
      const extra = new Uint8Array(1 + rng.int(64)).map(() => rng.int(256));
      return new Uint8Array([...b, ...extra]);
    },
  },
  {
    name: "random body bytes",
    apply(b, rng) {
      const c = b.slice();
      for (let k = 1 + rng.int(8); k > 0; k--) c[352 + rng.int(c.length - 352)] = rng.int(256);
      return c;
    },
  },
];

function gz(b: Uint8Array): Uint8Array {
  return new Uint8Array(gzipSync(b));
}

function gzMutations(b: Uint8Array, rng: Rng): { bytes: Uint8Array; name: string } {
  const z = gz(b).slice();
  switch (rng.int(3)) {
    case 0:
      return { bytes: z.slice(0, rng.int(z.length)), name: "gzip truncated" };
    case 1:
      for (let k = 1 + rng.int(4); k > 0; k--) z[10 + rng.int(z.length - 10)] = rng.int(256);
      return { bytes: z, name: "gzip bytes changed" };
    default: {
      const dv = new DataView(z.buffer);
      dv.setUint32(z.length - 4, rng.nextUint32(), true);
      return { bytes: z, name: "gzip size trailer changed" };
    }
  }
}

function checkRead(img: NiftiImage, label: string) {
  const n = img.shape[0] * img.shape[1] * img.shape[2];
  assert.equal(img.data.length, n, `${label}: data matches shape`);
  assert.ok(n <= MAX_VOXELS, `${label}: ${n} voxels within the limit`);
  assert.ok(img.affine.every(Number.isFinite) && img.spacing.every((s) => s > 0 && Number.isFinite(s)), `${label}: geometry`);
  for (const v of img.data) if (!Number.isFinite(v)) assert.fail(`${label}: non-finite voxel accepted`);
}

test(`fuzz: ${CASES} mutated NIfTI files are read correctly or refused with a NiftiError naming the file`, () => {
  const rng = new Rng(12);
  const all = bases();
  const outcomes = { read: 0, refused: 0 };
  const arrayBuffersBefore = process.memoryUsage().arrayBuffers;
  let slowest = 0;
  for (let k = 0; k < CASES; k++) {
    const base = all[rng.int(all.length)];
    const m = MUTATIONS[rng.int(MUTATIONS.length)];
    let bytes = m.apply(base.bytes, rng);
    let name = m.name;
    const zipped = rng.bernoulli(0.4);
    if (zipped) {
      if (rng.bernoulli(0.5)) {
        const g = gzMutations(base.bytes, rng);
        [bytes, name] = [g.bytes, g.name];
      } else bytes = gz(bytes);
    }
    const file = `fuzz-${k}.nii${zipped ? ".gz" : ""}`;
    const label = `case ${k} (${name}${zipped ? ", gzipped" : ""})`;
    const t0 = performance.now();
    let img: NiftiImage | undefined;
    try {
      img = parseNifti(bytes, file, { maxVoxels: MAX_VOXELS });
    } catch (e) {
      assert.ok(e instanceof NiftiError, `${label}: ${(e as Error)?.constructor?.name} ${(e as Error)?.stack ?? e}`);
      assert.ok(e.message.startsWith(`${file}: `) && e.message.length > file.length + 8, `${label}: message names the file: ${e.message}`);
      outcomes.refused++;
    }
    slowest = Math.max(slowest, performance.now() - t0);
    if (img) {
      outcomes.read++;
      checkRead(img, label);
      if (m.harmless && !name.startsWith("gzip")) {
        assert.deepEqual([...img.data], [...base.image.data], `${label}: same voxels`);
        assert.deepEqual(img.affine, base.image.affine, `${label}: same affine`);
      }
    }
    assert.ok(process.memoryUsage().arrayBuffers - arrayBuffersBefore < 256e6, `${label}: memory`);
  }
  assert.ok(slowest < 2000, `slowest parse ${slowest.toFixed(0)} ms`);
  assert.ok(outcomes.read > 20 && outcomes.refused > 100, JSON.stringify(outcomes));
});
