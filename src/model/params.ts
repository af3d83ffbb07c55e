/**
 * Named trainable parameters (and non-trainable buffers such as BatchNorm running statistics) as tfjs
 * variables, with deterministic seeded initialisation and plain-array export/import for checkpoints.
 */
import * as tf from "@tensorflow/tfjs";
import { readAllFloats } from "../util/host-read.js";
import { Rng } from "../util/rng.js";

export interface NamedArray {
  name: string;
  shape: number[];
  values: Float32Array;
}

let variableCounter = 0;

/**
 * How weights start. "pytorch": PyTorch's defaults for Conv3d/ConvTranspose3d/Linear (weights and biases
 * uniform in +-1/sqrt(fan_in)), which the reference uses (it has no init code of its own). "he": He-normal
 * weights and zero biases, the kit's first choice; with it the mini profile's networks barely learned
 * (docs/training-study.md).
 */
export type InitScheme = "pytorch" | "he";

export class ParamStore {
  readonly trainable = new Map<string, tf.Variable>();
  readonly buffers = new Map<string, tf.Variable>();
  private readonly rng: Rng;

  constructor(
    seed: number,
    readonly init: InitScheme = "pytorch",
  ) {
    this.rng = new Rng(seed);
  }

  /** A layer's weight under the store's init scheme; fanIn as PyTorch computes it for that layer. */
  weight(name: string, shape: number[], fanIn: number): tf.Variable {
    return this.init === "he" ? this.heNormal(name, shape, fanIn) : this.uniform(name, shape, 1 / Math.sqrt(fanIn));
  }

  /** A layer's bias: PyTorch draws it like the weight; the "he" scheme starts it at 0. */
  bias(name: string, shape: number[], fanIn: number): tf.Variable {
    return this.init === "he" ? this.constant(name, shape, 0) : this.uniform(name, shape, 1 / Math.sqrt(fanIn));
  }

  private add(name: string, shape: number[], values: Float32Array, trainable: boolean): tf.Variable {
    if (this.trainable.has(name) || this.buffers.has(name)) throw new Error(`parameter ${name} defined twice`);
    const initial = tf.tensor(values, shape);
    const v = tf.variable(initial, trainable, `${name}#${++variableCounter}`);
    initial.dispose(); // the variable shares its buffer; left alone it would outlive the model's dispose()
    (trainable ? this.trainable : this.buffers).set(name, v);
    return v;
  }

  /** He-normal initialisation (fan in), from the store's seeded generator. */
  heNormal(name: string, shape: number[], fanIn: number): tf.Variable {
    const sd = Math.sqrt(2 / fanIn);
    const n = shape.reduce((a, b) => a * b, 1);
    const vals = new Float32Array(n);
    for (let i = 0; i < n; i++) vals[i] = this.rng.normal(0, sd);
    return this.add(name, shape, vals, true);
  }

  uniform(name: string, shape: number[], bound: number): tf.Variable {
    const n = shape.reduce((a, b) => a * b, 1);
    const vals = new Float32Array(n);
    for (let i = 0; i < n; i++) vals[i] = this.rng.uniform(-bound, bound);
    return this.add(name, shape, vals, true);
  }

  constant(name: string, shape: number[], value: number, trainable = true): tf.Variable {
    const n = shape.reduce((a, b) => a * b, 1);
    return this.add(name, shape, new Float32Array(n).fill(value), trainable);
  }

  get(name: string): tf.Variable {
    const v = this.trainable.get(name) ?? this.buffers.get(name);
    if (!v) throw new Error(`no parameter named ${name}`);
    return v;
  }

  trainableList(): tf.Variable[] {
    return [...this.trainable.values()];
  }

  count(): number {
    let n = 0;
    for (const v of this.trainable.values()) n += v.size;
    return n;
  }

  /** All values (trainable and buffers), for checkpoints. */
  async exportArrays(): Promise<NamedArray[]> {
    const all = [...this.trainable, ...this.buffers];
    const values = await readAllFloats(all.map(([, v]) => v));
    return all.map(([name, v], i) => ({ name, shape: v.shape, values: values[i] }));
  }

  importArrays(arrays: NamedArray[], source: string): void {
    const byName = new Map(arrays.map((a) => [a.name, a]));
    for (const [name, v] of [...this.trainable, ...this.buffers]) {
      const a = byName.get(name);
      if (!a) throw new Error(`${source}: checkpoint has no parameter ${name} (different model config?)`);
      if (a.shape.join(",") !== v.shape.join(",")) {
        throw new Error(`${source}: parameter ${name} has shape [${a.shape}] in the checkpoint, the model has [${v.shape}]`);
      }
      tf.tidy(() => v.assign(tf.tensor(a.values, v.shape)));
    }
  }

  dispose(): void {
    for (const v of [...this.trainable.values(), ...this.buffers.values()]) v.dispose();
    this.trainable.clear();
    this.buffers.clear();
  }
}
