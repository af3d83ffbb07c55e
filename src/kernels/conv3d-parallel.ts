/**
 * The convolution kernels as two depth parts (depth-parts.ts), one on the main thread and one on the
 * convolution worker when it is up, each part an im2col convolution (conv3d-im2col.ts). Small
 * convolutions run whole. The main-thread computation of a part and the worker's are the same code on
 * the same numbers, so the result does not depend on the worker.
 */
import {
  conv3dBackpropFilter,
  conv3dBackpropInput,
  conv3dForward,
  flipFilterInto,
  transposedGeometry,
  type Buffer32,
  type ConvGeometry,
  type ConvArena,
} from "./conv3d-im2col.js";
import { copyDepths, depthParts, placeDepths, type DepthPart } from "./depth-parts.js";
import type { PartJob, PartRunner } from "./conv-worker-pool.js";

/** Convolutions with fewer column floats than this run whole (measured on the narrow benchmark net). */
let minSplitFloats = 1 << 19;
const FIRST_SHARE = 0.6; // the worker also copies its inputs and result: 0.6 measured best of 0.5-0.7

export function setSplitColumnFloats(n: number): number {
  const before = minSplitFloats;
  minSplitFloats = n;
  return before;
}

const filterSize = (g: ConvGeometry) => g.fd * g.fh * g.fw * g.cin * g.cout;
const inPlane = (g: ConvGeometry) => g.inH * g.inW * g.cin;
const outPlane = (g: ConvGeometry) => g.outH * g.outW * g.cout;

/** One part computed on this thread's memory: inputs copied into new buffers, result returned. */
function localPart<B extends Buffer32>(m: ConvArena<B>, op: PartJob["op"], g: ConvGeometry, p: DepthPart, x: B, second: B): B {
  const slab = m.alloc(g.batch * (p.s1 - p.s0) * inPlane(g));
  copyDepths(m.view(x), g.batch, g.inD, inPlane(g), p.s0, p.s1, m.view(slab));
  let result: B;
  if (op === "forward") result = conv3dForward(m, p.g, slab, second);
  else {
    const dyPart = m.alloc(g.batch * (p.od1 - p.od0) * outPlane(g));
    copyDepths(m.view(second), g.batch, g.outD, outPlane(g), p.od0, p.od1, m.view(dyPart));
    result = conv3dBackpropFilter(m, p.g, slab, dyPart);
    m.free(dyPart);
  }
  m.free(slab);
  return result;
}

/** Hand the second part to the worker: its inputs go into the arena. Returns where its result will be. */
function startRemote<B extends Buffer32>(m: ConvArena<B>, w: PartRunner, op: PartJob["op"], g: ConvGeometry, p: DepthPart, x: B, second: B): Float32Array {
  const nA = g.batch * (p.s1 - p.s0) * inPlane(g);
  const nB = op === "forward" ? filterSize(g) : g.batch * (p.od1 - p.od0) * outPlane(g);
  const nOut = op === "forward" ? g.batch * (p.od1 - p.od0) * outPlane(g) : filterSize(g);
  const arena = w.arena(nA + nB + nOut);
  copyDepths(m.view(x), g.batch, g.inD, inPlane(g), p.s0, p.s1, arena, 0);
  if (op === "forward") arena.set(m.view(second).subarray(0, nB), nA);
  else copyDepths(m.view(second), g.batch, g.outD, outPlane(g), p.od0, p.od1, arena, nA);
  w.start({ op, g: p.g, a: [0, nA], b: [nA, nB], out: [nA + nB, nOut] });
  return arena.subarray(nA + nB, nA + nB + nOut);
}

/**
 * Both parts, the second on the worker when it is up; `use(i, result)` sees each part's result (a view
 * valid only during the call) in part order.
 */
function runParts<B extends Buffer32>(
  m: ConvArena<B>,
  w: PartRunner | undefined,
  op: PartJob["op"],
  g: ConvGeometry,
  parts: DepthPart[],
  x: B,
  second: B,
  use: (i: number, result: Float32Array) => void,
): void {
  const remote = w?.available() ? startRemote(m, w, op, g, parts[1], x, second) : undefined;
  const local = (i: number) => {
    const buf = localPart(m, op, g, parts[i], x, second);
    use(i, m.view(buf));
    m.free(buf);
  };
  local(0);
  if (remote && w!.wait()) use(1, remote);
  else local(1);
}

export function forwardInParts<B extends Buffer32>(m: ConvArena<B>, g: ConvGeometry, x: B, filter: B, w?: PartRunner): B {
  const parts = depthParts(g, minSplitFloats, FIRST_SHARE);
  if (parts.length === 1) return conv3dForward(m, g, x, filter);
  const out = m.alloc(g.batch * g.outD * outPlane(g));
  runParts(m, w, "forward", g, parts, x, filter, (i, r) => placeDepths(r, g.batch, g.outD, outPlane(g), parts[i].od0, parts[i].od1, m.view(out)));
  return out;
}

export function filterGradInParts<B extends Buffer32>(m: ConvArena<B>, g: ConvGeometry, x: B, dy: B, w?: PartRunner): B {
  const parts = depthParts(g, minSplitFloats, FIRST_SHARE);
  if (parts.length === 1) return conv3dBackpropFilter(m, g, x, dy);
  // Part 0 + part 1, in that order whoever computed them.
  const sum = new Float32Array(filterSize(g));
  runParts(m, w, "filter", g, parts, x, dy, (_, r) => {
    for (let i = 0; i < sum.length; i++) sum[i] += r[i];
  });
  const out = m.alloc(sum.length);
  m.view(out).set(sum);
  return out;
}

export function inputGradInParts<B extends Buffer32>(m: ConvArena<B>, g: ConvGeometry, dy: B, filter: B, w?: PartRunner): B {
  if (g.sd !== 1 || g.sh !== 1 || g.sw !== 1) return conv3dBackpropInput(m, g, dy, filter);
  const flipped = m.alloc(filterSize(g));
  flipFilterInto(g, m.view(filter), m.view(flipped));
  const dx = forwardInParts(m, transposedGeometry(g), dy, flipped, w);
  m.free(flipped);
  return dx;
}

/** The worker's side of a job: inputs from the arena into this thread's memory, result back. */
export function runPartJob<B extends Buffer32>(m: ConvArena<B>, job: PartJob, arena: Float32Array): void {
  const load = ([offset, n]: [number, number]) => {
    const buf = m.alloc(n);
    m.view(buf).set(arena.subarray(offset, offset + n));
    return buf;
  };
  const a = load(job.a);
  const b = load(job.b);
  const result = job.op === "forward" ? conv3dForward(m, job.g, a, b) : conv3dBackpropFilter(m, job.g, a, b);
  arena.set(m.view(result).subarray(0, job.out[1]), job.out[0]);
  m.free(a);
  m.free(b);
  m.free(result);
}
