/**
 * How many GPU programs the webgpu backend runs, and what one costs the host. On a GPU a training step
 * of the kit's nets is many small launches, and each costs host time (tfjs's bookkeeping, a uniform buffer,
 * a bind group, Dawn's validation) whatever its size: launches x host cost bounds the step from below.
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
 * The host's time to launch one small element-wise program (microseconds, median of 5 rounds of 500): the
 * time to issue the launches, not to run them (8192 floats each, too small to matter on a GPU).
 */
export async function hostMicrosPerDispatch(): Promise<number> {
  const a = tf.fill([8192], 1);
  const rounds: number[] = [];
  for (let r = 0; r < 6; r++) {
    let x = tf.clone(a);
    const t0 = performance.now();
    for (let i = 0; i < 500; i++) {
      const y = tf.add(x, a);
      x.dispose();
      x = y;
    }
    const t1 = performance.now();
    await x.data();
    x.dispose();
    if (r > 0) rounds.push(((t1 - t0) * 1000) / 500); // round 0 compiles the shader
  }
  a.dispose();
  rounds.sort((p, q) => p - q);
  return rounds[2];
}
