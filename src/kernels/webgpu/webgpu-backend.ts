/**
 * The part of tfjs-backend-webgpu's backend that the kit's webgpu kernels use, typed where the kernels
 * meet it (the package's WebGPUBackend type is not needed at run time, and the backend is optional).
 */
import * as tf from "@tensorflow/tfjs";

export type Info = tf.TensorInfo;

export interface WebGpuBackendLike {
  runWebGPUProgram(program: object, inputs: Info[], dtype: string, uniforms?: { type: string; data: number[] }[]): Info;
  disposeData(dataId: object): boolean;
}

/** The arguments tfjs passes a kernel function. */
export interface KernelArgs {
  inputs: Record<string, Info>;
  backend: unknown;
  attrs?: Record<string, unknown>;
}

/** A view of `x` with another shape (webgpu's Reshape shares the buffer); `x` is released. */
export function reshapeInfo(backend: WebGpuBackendLike, x: Info, shape: number[]): Info {
  const reshape = tf.getKernel("Reshape", "webgpu")!.kernelFunc as unknown as (a: object) => Info;
  const out = reshape({ inputs: { x }, backend, attrs: { shape } });
  backend.disposeData(x.dataId);
  return out;
}

export const int32 = (v: number) => ({ type: "int32", data: [v] });
export const float32 = (v: number) => ({ type: "float32", data: [v] });

/** Workgroups of 256 threads over n elements, one element a thread (tfjs spreads more than 65535 over y, z). */
export function flatProgram(shaderKey: string, variableNames: string[], outputShape: number[], uniforms: string, body: string) {
  const n = outputShape.reduce((a, b) => a * b, 1);
  return {
    variableNames,
    outputShape,
    shaderKey,
    dispatchLayout: { x: outputShape.map((_, i) => i) },
    dispatch: [Math.ceil(n / 256), 1, 1],
    workgroupSize: [256, 1, 1] as [number, number, number],
    uniforms,
    size: true,
    getUserCode: () => `
      fn main(index : i32) {
        if (index < uniforms.size) {
          ${body}
        }
      }
    `,
  };
}

type KernelFunc = (args: KernelArgs) => Info | Info[];
const stock = new Map<string, KernelFunc>();

/**
 * Registers the kit's webgpu kernel of that name over the stock one, kept for stockWebGpuKernel (once: a
 * second call finds the kit's registered).
 */
export function registerOverStock(kernelName: string, kernelFunc: unknown): void {
  const k = tf.getKernel(kernelName, "webgpu");
  if (k && (k.kernelFunc as unknown) === kernelFunc) return;
  if (k) {
    stock.set(kernelName, k.kernelFunc as unknown as KernelFunc);
    tf.unregisterKernel(kernelName, "webgpu");
  }
  tf.registerKernel({ kernelName, backendName: "webgpu", kernelFunc: kernelFunc as tf.KernelFunc });
}

/** tfjs's own webgpu kernel of that name, as it was before the kit's replaced it. */
export function stockWebGpuKernel(kernelName: string): KernelFunc {
  const k = stock.get(kernelName);
  if (!k) throw new Error(`no stock webgpu ${kernelName} kernel was kept (registerWebGpuKernels first)`);
  return k;
}
