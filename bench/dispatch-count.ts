/**
 * How many GPU programs the webgpu backend runs, and what one costs the host. Each launch costs host time
 * (tfjs's bookkeeping, a uniform buffer, a bind group, Dawn's validation) whatever its size, so launches x
 * host cost bounds a step from below however fast the GPU is.
 */
import * as tf from "@tensorflow/tfjs";

interface Runner {
  runWebGPUProgram: (...a: unknown[]) => unknown;
}

/** Runs `f` (awaited) counting the programs the active webgpu backend runs meanwhile. */
export async function countDispatches<T>(f: () => T | Promise<T>): Promise<{ result: T; dispatches: number }> {
  const backend = tf.backend() as unknown as Partial<Runner>;
  const original = backend.runWebGPUProgram;
  if (!original) throw new Error("countDispatches: the active backend is not webgpu");
  let dispatches = 0;
  backend.runWebGPUProgram = (...a: unknown[]) => {
    dispatches++;
    return original.apply(backend, a);
  };
  try {
    return { result: await f(), dispatches };
  } finally {
    backend.runWebGPUProgram = original;
  }
}

/**
 * The host's time to launch one small element-wise program (microseconds, median of 5 rounds of 500):
 * tfjs's bookkeeping, the uniform buffer, the bind group and the pass encoding, with nothing submitted
 * meanwhile (tfjs submits every 15 launches by default, and on a software adapter a submit runs the shaders
 * then and there, which would be counted as host time: about 110 us a launch on llvmpipe against 19).
 */
export async function hostMicrosPerDispatch(): Promise<number> {
  const flag = "WEBGPU_DEFERRED_SUBMIT_BATCH_SIZE";
  const batch = tf.env().getNumber(flag);
  const a = tf.fill([8192], 1);
  const rounds: number[] = [];
  try {
    tf.env().set(flag, 1 << 30);
    for (let r = 0; r < 6; r++) {
      let x = tf.clone(a);
      const t0 = performance.now();
      for (let i = 0; i < 500; i++) {
        const y = tf.add(x, a);
        x.dispose();
        x = y;
      }
      const t1 = performance.now();
      await x.data(); // submits
      x.dispose();
      if (r > 0) rounds.push(((t1 - t0) * 1000) / 500); // round 0 compiles the shader
    }
  } finally {
    tf.env().set(flag, batch);
    a.dispose();
  }
  rounds.sort((p, q) => p - q);
  return rounds[2];
}
