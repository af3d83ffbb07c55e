/**
 * MaxPool3D and its gradient on the wasm backend for the U-Net's pooling (2x2x2 windows, stride 2, no
 * padding, even sides, channels a multiple of 4), four channels at a time in max-pool.wasm; other shapes
 * go to the stock kernels. Bit for bit the stock kernels' results, quirks included (see max-pool.wat):
 * the stock ones walk one channel at a time and took about 5 ms of a one-thread mini step.
 */
import * as tf from "@tensorflow/tfjs";
import { wasmKernel, wasmMaxPool, type TensorInfo, type TypedKernel, type WasmBackendLike } from "./wasm-backend.js";

type PoolAttrs = {
  filterSize: number | number[];
  strides: number | number[];
  pad: "valid" | "same" | number;
  dilations?: number | number[];
  dataFormat?: string;
};

const all = (v: number | number[] | undefined, want: number) => v === undefined || (Array.isArray(v) ? v.every((d) => d === want) : v === want);

/**
 * [B, D, H, W, C] and the bytes of one batch item's input and pooled output, when the pooling is the one
 * max-pool.wasm computes and the module is built.
 */
function fastShape(x: TensorInfo, attrs: PoolAttrs, backend: WasmBackendLike) {
  const s = x.shape;
  const ok =
    x.dtype === "float32" &&
    s.length === 5 &&
    all(attrs.filterSize, 2) &&
    all(attrs.strides, 2) &&
    all(attrs.dilations, 1) &&
    attrs.pad === "valid" &&
    (attrs.dataFormat ?? "NDHWC") === "NDHWC" &&
    s[1] % 2 === 0 &&
    s[2] % 2 === 0 &&
    s[3] % 2 === 0 &&
    s[4] % 4 === 0;
  const m = ok ? wasmMaxPool(backend) : undefined;
  const [B, D, H, W, C] = s;
  return m ? { m, B, D, H, W, C, inBytes: D * H * W * C * 4, outBytes: (D * H * W * C) / 2 } : undefined;
}

const at = (backend: WasmBackendLike, t: TensorInfo) => (backend.typedArrayFromHeap(t) as Float32Array).byteOffset;

export const maxPool3dConfig = (stock: TypedKernel<{ x: TensorInfo }, PoolAttrs>) =>
  wasmKernel<{ x: TensorInfo }, PoolAttrs>(
    tf.MaxPool3D,
    (args) => {
      const { inputs, attrs, backend } = args;
      const f = fastShape(inputs.x, attrs, backend);
      if (!f) return stock.kernelFunc(args);
      const { m, B, D, H, W, C, inBytes, outBytes } = f;
      const out = backend.makeOutput([B, D / 2, H / 2, W / 2, C], "float32");
      const [o, x] = [at(backend, out), at(backend, inputs.x)];
      for (let b = 0; b < B; b++) m.maxPool2(o + b * outBytes, x + b * inBytes, D, H, W, C);
      return out;
    },
    stock.setupFunc,
  );

type GradInputs = { dy: TensorInfo; input: TensorInfo; output: TensorInfo };

export const maxPool3dGradConfig = (stock: TypedKernel<GradInputs, PoolAttrs>) =>
  wasmKernel<GradInputs, PoolAttrs>(
    tf.MaxPool3DGrad,
    (args) => {
      const { inputs, attrs, backend } = args;
      const f = fastShape(inputs.input, attrs, backend);
      if (!f) return stock.kernelFunc(args);
      const { m, B, D, H, W, C, inBytes, outBytes } = f;
      const dx = backend.makeOutput(inputs.input.shape, "float32");
      const [o, x, dy] = [at(backend, dx), at(backend, inputs.input), at(backend, inputs.dy)];
      for (let b = 0; b < B; b++) m.maxPool2Grad(o + b * inBytes, x + b * inBytes, dy + b * outBytes, D, H, W, C);
      // The stock kernel's one quirk that lands: its running maximum starts at FLT_MIN with position 0 of the
      // whole tensor, so where no value of the first window's first channel reaches FLT_MIN, that window's
      // gradient goes to the tensor's first element (0 + dy); every other such window's is dropped.
      const xv = backend.typedArrayFromHeap(inputs.input) as Float32Array;
      const firstWindow = [0, 1].flatMap((d) => [0, 1].flatMap((h) => [0, 1].map((w) => ((d * H + h) * W + w) * C)));
      if (firstWindow.every((i) => !(xv[i] >= 2 ** -126))) {
        const dxv = backend.typedArrayFromHeap(dx) as Float32Array;
        dxv[0] = (backend.typedArrayFromHeap(inputs.dy) as Float32Array)[0] + 0;
      }
      return dx;
    },
    stock.setupFunc,
  );
