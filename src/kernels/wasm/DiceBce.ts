/**
 * The loss's per-organ Dice and BCE terms and their gradient on the wasm backend (kernels/dice-bce.ts): the
 * element-wise sigmoid and BCE four at a time in sigmoid-bce.wasm, the sums over rows and voxels in float64
 * (the op form sums in float32).
 *
 * Forward outputs: terms [2, T] (Dice loss, BCE), the per-row statistics [2, X, T] (2 sum(p y) and
 * sum(p) + sum(y) + 1 of each row and organ) and p = sigmoid(x) [V, T], the last two for the gradient.
 */
import { DICE_BCE, DICE_BCE_GRAD, type DiceBceAttrs } from "../dice-bce.js";
import { wasmKernel, wasmSigmoidBce, type TensorInfo, type WasmBackendLike } from "./wasm-backend.js";

function check(kernel: string, like: TensorInfo, others: TensorInfo[], rows: number): { V: number; T: number } {
  if (like.shape.length !== 2) throw new Error(`${kernel}: logits must be [V, T], got [${like.shape}]`);
  const [V, T] = like.shape;
  if (!Number.isInteger(rows) || rows < 1 || V % rows !== 0) throw new Error(`${kernel}: ${V} voxels do not split into ${rows} rows`);
  if ([like, ...others].some((t) => t.dtype !== "float32")) throw new Error(`${kernel}: every input must be float32`);
  return { V, T };
}

const views = (backend: WasmBackendLike, ts: TensorInfo[]) => ts.map((t) => backend.typedArrayFromHeap(t) as Float32Array);

/** p and the per-voxel BCE of x[from..n) against y, one element at a time (the tail, or no sigmoid-bce.wasm). */
function sigmoidBceJs(x: Float32Array, y: Float32Array, p: Float32Array, l: Float32Array, from: number, n: number): void {
  for (let i = from; i < n; i++) {
    const e = Math.exp(-Math.abs(x[i]));
    p[i] = x[i] >= 0 ? 1 / (1 + e) : e / (1 + e);
    l[i] = Math.max(x[i], 0) - x[i] * y[i] + Math.log1p(e);
  }
}

export const diceBceConfig = wasmKernel<{ x: TensorInfo; y: TensorInfo }, DiceBceAttrs>(DICE_BCE, ({ inputs, attrs, backend }) => {
  const X = attrs.rows;
  const { V, T } = check(DICE_BCE, inputs.x, [inputs.y], X);
  if (inputs.y.shape.join() !== inputs.x.shape.join()) throw new Error(`${DICE_BCE}: targets [${inputs.y.shape}] do not match logits [${inputs.x.shape}]`);
  const terms = backend.makeOutput([2, T], "float32");
  const stats = backend.makeOutput([2, X, T], "float32");
  const prob = backend.makeOutput([V, T], "float32");
  const perVoxel = backend.makeOutput([V, T], "float32");
  // Views taken after every allocation: growing the heap detaches older views.
  const [x, y, tv, sv, p, l] = views(backend, [inputs.x, inputs.y, terms, stats, prob, perVoxel]);
  const n = V * T;
  const fast = wasmSigmoidBce(backend);
  const quads = fast ? n >> 2 : 0;
  if (fast) fast.sigmoidBce(x.byteOffset, y.byteOffset, p.byteOffset, l.byteOffset, quads);
  sigmoidBceJs(x, y, p, l, 4 * quads, n);
  const pt = new Float64Array(X * T); // sum(p y) per row and organ
  const ps = new Float64Array(X * T); // sum(p) + sum(y)
  const bce = new Float64Array(T);
  for (let v = 0, i = 0; v < V; v++) {
    const row = (v % X) * T;
    for (let t = 0; t < T; t++, i++) {
      pt[row + t] += p[i] * y[i];
      ps[row + t] += p[i] + y[i];
      bce[t] += l[i];
    }
  }
  backend.disposeData(perVoxel.dataId, true);
  for (let t = 0; t < T; t++) {
    let dice = 0;
    for (let r = 0; r < X; r++) {
      const num = 2 * pt[r * T + t];
      const den = ps[r * T + t] + 1;
      sv[r * T + t] = num;
      sv[X * T + r * T + t] = den;
      dice += 1 - num / den;
    }
    tv[t] = dice / X;
    tv[T + t] = bce[t] / V;
  }
  return [terms, stats, prob];
});

type GradInputs = { p: TensorInfo; y: TensorInfo; stats: TensorInfo; dy: TensorInfo };

export const diceBceGradConfig = wasmKernel<GradInputs, DiceBceAttrs>(DICE_BCE_GRAD, ({ inputs, attrs, backend }) => {
  const X = attrs.rows;
  const { V, T } = check(DICE_BCE_GRAD, inputs.p, [inputs.y, inputs.stats, inputs.dy], X);
  const dxInfo = backend.makeOutput([V, T], "float32");
  const [p, y, s, dy, dx] = views(backend, [inputs.p, inputs.y, inputs.stats, inputs.dy, dxInfo]);
  // d dice_t / d p at row r = -(1/X) (2 y / D - N / D^2), N = 2 sum(p y), D = sum(p) + sum(y) + 1;
  // d bce_t / d x = (p - y) / V; d p / d x = p (1 - p).
  const a = new Float64Array(X * T); // coefficient of y
  const b = new Float64Array(X * T); // constant
  const c = new Float64Array(T);
  for (let t = 0; t < T; t++) {
    c[t] = dy[T + t] / V;
    for (let r = 0; r < X; r++) {
      const k = r * T + t;
      const D = s[X * T + k];
      a[k] = (-dy[t] * 2) / (X * D);
      b[k] = (dy[t] * s[k]) / (X * D * D);
    }
  }
  for (let v = 0, i = 0; v < V; v++) {
    const row = (v % X) * T;
    for (let t = 0; t < T; t++, i++) {
      const pi = p[i];
      dx[i] = (a[row + t] * y[i] + b[row + t]) * pi * (1 - pi) + c[t] * (pi - y[i]);
    }
  }
  return dxInfo;
});
