/**
 * AdamW with decoupled weight decay (as torch.optim.AdamW): p <- p * (1 - lr * wd), then the Adam step.
 * Written out rather than tf.train.adam so its whole state (moments, step) goes into checkpoints and the
 * learning rate can follow the cosine schedule per step. One fused kernel a parameter where the backend
 * has it (wasm, webgpu), else tfjs ops.
 */
import * as tf from "@tensorflow/tfjs";
import { fusedAdamW, hasFusedAdamW } from "../kernels/adamw-update.js";
import { readAllFloats } from "../util/host-read.js";
import type { NamedArray } from "../model/params.js";

export interface AdamWConfig {
  beta1: number;
  beta2: number;
  eps: number;
  weightDecay: number;
}

export const TORCH_ADAMW: AdamWConfig = { beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 1e-5 };

/** A variable of p's shape at 0 (its initial tensor disposed: a variable shares, not copies, it). */
function zeroVariable(p: tf.Tensor): tf.Variable {
  const zeros = tf.zerosLike(p);
  const v = tf.variable(zeros, false);
  zeros.dispose();
  return v;
}

export class AdamW {
  private readonly m = new Map<string, tf.Variable>();
  private readonly v = new Map<string, tf.Variable>();
  step = 0;

  constructor(
    private readonly vars: Map<string, tf.Variable>,
    readonly config: AdamWConfig = TORCH_ADAMW,
  ) {
    for (const [name, p] of vars) {
      this.m.set(name, zeroVariable(p));
      this.v.set(name, zeroVariable(p));
    }
  }

  /** Apply one update with gradients keyed by variable name (tf.variableGrads keys by variable.name). */
  apply(grads: Map<string, tf.Tensor>, lr: number): void {
    this.step += 1;
    const { beta1, beta2, eps, weightDecay } = this.config;
    const fused = hasFusedAdamW();
    const bc1 = 1 - beta1 ** this.step;
    const bc2 = 1 - beta2 ** this.step;
    tf.tidy(() => {
      for (const [name, p] of this.vars) {
        const g = grads.get(name);
        if (!g) continue;
        const m = this.m.get(name)!;
        const v = this.v.get(name)!;
        if (fused) {
          const [p1, m1, v1] = fusedAdamW({ param: p, m, v, grad: g }, { lr, beta1, beta2, eps, weightDecay, step: this.step });
          m.assign(m1);
          v.assign(v1);
          p.assign(p1);
          continue;
        }
        m.assign(tf.add(tf.mul(m, beta1), tf.mul(g, 1 - beta1)));
        v.assign(tf.add(tf.mul(v, beta2), tf.mul(tf.square(g), 1 - beta2)));
        const update = tf.div(tf.div(m, bc1), tf.add(tf.sqrt(tf.div(v, bc2)), eps));
        p.assign(tf.sub(tf.mul(p, 1 - lr * weightDecay), tf.mul(update, lr)));
      }
    });
  }

  async exportArrays(): Promise<NamedArray[]> {
    const all = [...[...this.m].map(([name, t]) => [`m:${name}`, t] as const), ...[...this.v].map(([name, t]) => [`v:${name}`, t] as const)];
    const values = await readAllFloats(all.map(([, t]) => t));
    return all.map(([name, t], i) => ({ name, shape: t.shape, values: values[i] }));
  }

  importArrays(arrays: NamedArray[], step: number, source: string): void {
    const byName = new Map(arrays.map((a) => [a.name, a]));
    for (const [prefix, map] of [
      ["m", this.m],
      ["v", this.v],
    ] as const) {
      for (const [name, t] of map) {
        const a = byName.get(`${prefix}:${name}`);
        if (!a || a.values.length !== t.size) throw new Error(`${source}: optimiser state for ${name} is missing or has the wrong size`);
        tf.tidy(() => t.assign(tf.tensor(a.values, t.shape)));
      }
    }
    this.step = step;
  }

  dispose(): void {
    for (const t of [...this.m.values(), ...this.v.values()]) t.dispose();
  }
}
