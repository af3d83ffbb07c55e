/**
 * What the kit's wasm kernels need of tfjs-backend-wasm beyond the public API: its tensor records, its
 * heap, and the kit's WebAssembly modules instantiated on that heap (once per backend).
 */
import * as tf from "@tensorflow/tfjs";
import { loadWasmColumns, webAssembly, type WasmColumns, type WasmHeap } from "../columns-wasm.js";
import { moduleLoader, type WasmAdamW, type WasmBatchNormRelu, type WasmMaxPool, type WasmSigmoidBce } from "../fused-modules.js";

export type TensorInfo = tf.TensorInfo;

export interface WasmBackendLike {
  wasm: { asm?: Record<string, unknown> };
  makeOutput(shape: number[], dtype: TensorInfo["dtype"]): TensorInfo;
  typedArrayFromHeap(info: TensorInfo): Float32Array | Int32Array | Uint8Array;
  disposeData(dataId: object, force?: boolean): boolean;
  /** One more tensor shares this buffer (it is freed when the last one is disposed). */
  incRef(dataId: object): void;
}

/** Which column loops the kernels use: "wasm" (columns.wasm) or "js" (module not built / not loadable). */
export let columnLoopsInUse: "wasm" | "js" | undefined;

const heapOf = (backend: WasmBackendLike) => Object.values(backend.wasm.asm ?? {}).find((v): v is WasmHeap => v instanceof webAssembly.Memory);

/** One of the kit's modules on a backend's heap, loaded once per backend; undefined when not built. */
function onHeap<M>(load: (heap: WasmHeap) => M | undefined): (backend: WasmBackendLike) => M | undefined {
  const loaded = new WeakMap<WasmBackendLike, M | null>();
  return (backend) => {
    if (!loaded.has(backend)) {
      const heap = heapOf(backend);
      loaded.set(backend, (heap && load(heap)) || null);
    }
    return loaded.get(backend) ?? undefined;
  };
}

const columnsOnHeap = onHeap(loadWasmColumns);

/** columns.wasm on this backend's heap, or undefined (JavaScript loops) when it is not built. */
export function wasmColumns(backend: WasmBackendLike): WasmColumns | undefined {
  const m = columnsOnHeap(backend);
  columnLoopsInUse = m ? "wasm" : "js";
  return m;
}

/** sigmoid-bce.wasm on this backend's heap, or undefined when it is not built. */
export const wasmSigmoidBce: (backend: WasmBackendLike) => WasmSigmoidBce | undefined = onHeap(moduleLoader<WasmSigmoidBce>("sigmoid-bce.wasm"));

/** adamw.wasm on this backend's heap, or undefined when it is not built. */
export const wasmAdamW: (backend: WasmBackendLike) => WasmAdamW | undefined = onHeap(moduleLoader<WasmAdamW>("adamw.wasm"));

/** max-pool.wasm on this backend's heap, or undefined when it is not built. */
export const wasmMaxPool: (backend: WasmBackendLike) => WasmMaxPool | undefined = onHeap(moduleLoader<WasmMaxPool>("max-pool.wasm"));

/** batchnorm-relu.wasm on this backend's heap, or undefined when it is not built. */
export const wasmBatchNormRelu: (backend: WasmBackendLike) => WasmBatchNormRelu | undefined = onHeap(moduleLoader<WasmBatchNormRelu>("batchnorm-relu.wasm"));

/**
 * A kernel function of the kit, typed by its inputs and attributes (tfjs-core's `*Inputs` / `*Attrs`
 * shapes) and the wasm backend's members it uses. tfjs types every kernel function loosely
 * (NamedTensorInfoMap, NamedAttrMap, KernelBackend); `wasmKernel` and `wasmKernelOf` are the one place
 * where the two types meet, as tfjs-backend-wasm's own kernels meet them at registration.
 */
export type WasmKernelFunc<I, A> = (args: { inputs: I; attrs: A; backend: WasmBackendLike }) => TensorInfo | TensorInfo[];

/** The registration of one of the kit's wasm kernels. */
export function wasmKernel<I, A>(kernelName: string, kernelFunc: WasmKernelFunc<I, A>, setupFunc?: tf.KernelSetupFunc): tf.KernelConfig {
  const config: tf.KernelConfig = { kernelName, backendName: "wasm", kernelFunc: kernelFunc as unknown as tf.KernelFunc };
  return setupFunc ? { ...config, setupFunc } : config;
}

/** A registered kernel, typed as the kit's kernels are. */
export interface TypedKernel<I, A> {
  kernelFunc: WasmKernelFunc<I, A>;
  /** Binds the wasm function a stock kernel calls; the kit's replacement must keep it. */
  setupFunc?: tf.KernelSetupFunc;
}

/** The kernel registered now for that name on the wasm backend: before the kit's kernels are registered, the stock one. */
export function wasmKernelOf<I, A>(kernelName: string): TypedKernel<I, A> {
  const k = tf.getKernel(kernelName, "wasm");
  if (!k) throw new Error(`the wasm backend has no ${kernelName} kernel to fall back to (register the wasm backend first)`);
  return { kernelFunc: k.kernelFunc as unknown as WasmKernelFunc<I, A>, setupFunc: k.setupFunc };
}

/** Tensors the copy kernels move as 4-byte words (other dtypes go to the stock kernels). */
export const fourBytes = (t: TensorInfo): boolean => t.dtype === "float32" || t.dtype === "int32";
