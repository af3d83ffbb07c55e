import { test } from "node:test";
import assert from "node:assert/strict";
import { im2col, type ConvGeometry } from "../src/kernels/conv3d-im2col.js";
import { copyDepths, depthParts, placeDepths } from "../src/kernels/depth-parts.js";
import { Rng } from "../src/util/rng.js";

function randomGeometry(rng: Rng): ConvGeometry {
  const int = (lo: number, hi: number) => lo + Math.floor(rng.uniform(0, hi - lo + 1));
  const fd = int(1, 3),
    fh = int(1, 3),
    fw = int(1, 3),
    sd = int(1, 2);
  const inD = int(fd, 11),
    inH = int(fh, 6),
    inW = int(fw, 6);
  const same = rng.uniform(0, 1) < 0.5;
  const out = (n: number, k: number, s: number) => (same ? Math.ceil(n / s) : Math.floor((n - k) / s) + 1);
  const pad = (n: number, k: number, s: number) => (same ? Math.floor(Math.max(0, (out(n, k, s) - 1) * s + k - n) / 2) : 0);
  return {
    batch: int(1, 2),
    inD,
    inH,
    inW,
    cin: int(1, 3),
    outD: out(inD, fd, sd),
    outH: out(inH, fh, 1),
    outW: out(inW, fw, 1),
    cout: 2,
    fd,
    fh,
    fw,
    sd,
    sh: 1,
    sw: 1,
    padFront: pad(inD, fd, sd),
    padTop: pad(inH, fh, 1),
    padLeft: pad(inW, fw, 1),
  };
}

test("depth parts: each part's columns, from its input slab alone, equal the whole convolution's", () => {
  const rng = new Rng(31);
  let split = 0;
  for (let t = 0; t < 200; t++) {
    const g = randomGeometry(rng);
    const K = g.fd * g.fh * g.fw * g.cin;
    const x = Float32Array.from({ length: g.batch * g.inD * g.inH * g.inW * g.cin }, () => rng.uniform(0.5, 1.5));
    const parts = depthParts(g, 1, rng.uniform(0.3, 0.8));
    split += parts.length === 2 ? 1 : 0;
    assert.equal(parts[0].od0, 0);
    assert.equal(parts[parts.length - 1].od1, g.outD);
    if (parts.length === 2) assert.equal(parts[0].od1, parts[1].od0);
    const inPlane = g.inH * g.inW * g.cin;
    for (let b = 0; b < g.batch; b++) {
      const whole = new Float32Array(g.outD * g.outH * g.outW * K);
      im2col(g, x, b, 0, g.outD * g.outH, whole);
      for (const p of parts) {
        const slab = new Float32Array(g.batch * (p.s1 - p.s0) * inPlane);
        copyDepths(x, g.batch, g.inD, inPlane, p.s0, p.s1, slab);
        const cols = new Float32Array(p.g.outD * g.outH * g.outW * K);
        im2col(p.g, slab, b, 0, p.g.outD * g.outH, cols);
        const from = p.od0 * g.outH * g.outW * K;
        assert.deepEqual(cols, whole.subarray(from, from + cols.length), `${JSON.stringify(g)} part ${p.od0}-${p.od1}`);
      }
    }
  }
  assert.ok(split > 150, `only ${split} of 200 geometries were split`);
  // Below the work threshold, or with one output depth, the convolution stays whole.
  const g = randomGeometry(new Rng(1));
  assert.equal(depthParts(g, Infinity).length, 1);
  assert.equal(depthParts({ ...g, outD: 1 }, 1).length, 1);
});

test("copyDepths and placeDepths are inverse on [B, D, rest] arrays", () => {
  const [B, D, rest] = [3, 7, 5];
  const a = Float32Array.from({ length: B * D * rest }, (_, i) => i + 1);
  const back = new Float32Array(a.length);
  for (const [d0, d1] of [
    [0, 3],
    [3, 7],
  ]) {
    const part = new Float32Array(B * (d1 - d0) * rest);
    copyDepths(a, B, D, rest, d0, d1, part);
    assert.equal(part[0], d0 * rest + 1);
    placeDepths(part, B, D, rest, d0, d1, back);
  }
  assert.deepEqual(back, a);
});
