/**
 * Pre-trained weights (the paper starts from Models Genesis, Genesis_Chest_CT.pt): map a PyTorch state
 * dict in the reference's UNet3D naming (model/Unet.py; `module.` from DataParallel stripped, and
 * `backbone.` too for a Universal Model checkpoint) onto the kit's backbone, checking every shape.
 *
 * Names: down_tr64 / down_tr128 / down_tr256 / down_tr512 -> down0..down3, up_tr256 / up_tr128 / up_tr64
 * -> up0..up2; ops.0 / ops.1 -> a / b; conv1.weight / bias -> conv.w / conv.b; bn1.weight / bias /
 * running_mean / running_var -> bn.gamma / beta / runMean / runVar; up_conv.weight / bias -> t.w / t.b.
 * The first conv after each concatenation is split into its two filter blocks: the upsampled channels
 * (first in torch.cat) -> conv.w0, the skip channels -> conv.w1. `out_tr.*` is skipped (as the
 * reference's Universal_model.load_params), and `num_batches_tracked` has no counterpart.
 *
 * Layouts: the reference's tensors are [N, C, X, Y, Z] (x first); the kit's are NDHWC with D = z, H = y,
 * W = x. So a Conv3d weight [out, in, kx, ky, kz] becomes [kz, ky, kx, in, out] and a ConvTranspose3d
 * weight [in, out, kx, ky, kz] becomes [kz, ky, kx, out, in]: both reverse all five axes.
 */
import { readFileSync } from "node:fs";
import * as tf from "@tensorflow/tfjs";
import type { UniversalUNet } from "./universal-unet.js";
import { readTorchCheckpoint, stateDictOf, TorchCheckpointError, type TorchTensor } from "./torch-checkpoint.js";

const DOWN = ["down_tr64", "down_tr128", "down_tr256", "down_tr512"];
const UP = ["up_tr256", "up_tr128", "up_tr64"];
const BN: Record<string, string> = { weight: "gamma", bias: "beta", running_mean: "runMean", running_var: "runVar" };

export interface InitReport {
  /** Kit parameters set from the checkpoint. */
  loaded: string[];
  /** Kit parameters left at their initialisation (the Universal Model head, or anything missing). */
  left: string[];
  /** Checkpoint tensors with no counterpart in the kit (out_tr, num_batches_tracked, unknown names). */
  unused: string[];
}

/** Reverse all axes of a row-major tensor: out[i4, i3, i2, i1, i0] = in[i0, i1, i2, i3, i4]. */
function reverseAxes(values: Float64Array, shape: number[]): { values: Float32Array; shape: number[] } {
  const rank = shape.length;
  const outShape = shape.slice().reverse();
  const out = new Float32Array(values.length);
  const inStrides = new Array(rank).fill(1);
  for (let d = rank - 2; d >= 0; d--) inStrides[d] = inStrides[d + 1] * shape[d + 1];
  const idx = new Array(rank).fill(0); // index into the output, row-major
  for (let o = 0; o < out.length; o++) {
    let i = 0;
    for (let d = 0; d < rank; d++) i += idx[d] * inStrides[rank - 1 - d];
    out[o] = values[i];
    for (let d = rank - 1; d >= 0; d--) {
      if (++idx[d] < outShape[d]) break;
      idx[d] = 0;
    }
  }
  return { values: out, shape: outShape };
}

/** Split a kit conv filter [k, k, k, cin, cout] along cin into blocks of the given channel counts. */
function splitInputChannels(values: Float32Array, shape: number[], parts: number[]): Float32Array[] {
  const [kd, kh, kw, cin, cout] = shape;
  const taps = kd * kh * kw;
  let start = 0;
  return parts.map((c) => {
    const out = new Float32Array(taps * c * cout);
    for (let t = 0; t < taps; t++) {
      for (let i = 0; i < c; i++) {
        const src = (t * cin + start + i) * cout;
        out.set(values.subarray(src, src + cout), (t * c + i) * cout);
      }
    }
    start += c;
    return out;
  });
}

const sameShape = (a: readonly number[], b: readonly number[]) => a.length === b.length && a.every((v, i) => v === b[i]);

/**
 * Map a state dict onto the model's backbone. Every shape is checked before anything is assigned: on a
 * mismatch nothing changes and the error lists each mismatching parameter.
 */
export function applyGenesisWeights(model: UniversalUNet, state: Map<string, TorchTensor>, source = "checkpoint"): InitReport {
  const params = model.params;
  const modelShape = (name: string) => params.get(name).shape;
  const assign = new Map<string, Float32Array>();
  const unused: string[] = [];
  const mismatches: string[] = [];
  const put = (kit: string, values: Float32Array, shape: number[], from: string) => {
    let want: number[];
    try {
      want = modelShape(kit);
    } catch {
      unused.push(from);
      return;
    }
    if (!sameShape(want, shape)) mismatches.push(`${from} -> ${kit}: checkpoint [${shape}], model [${want}]`);
    else assign.set(kit, values);
  };
  for (const [fullName, t] of state) {
    const name = fullName.replace(/^module\./, "").replace(/^backbone\./, "");
    const m = /^(down_tr\d+|up_tr\d+)\.(ops\.(\d)\.(conv1|bn1)\.(\w+)|up_conv\.(weight|bias))$/.exec(name);
    const level = m ? (DOWN.includes(m[1]) ? `down${DOWN.indexOf(m[1])}` : UP.includes(m[1]) ? `up${UP.indexOf(m[1])}` : undefined) : undefined;
    if (!m || !level) {
      unused.push(fullName);
      continue;
    }
    if (m[6]) {
      // Transposed conv.
      if (!level.startsWith("up")) {
        unused.push(fullName);
      } else if (m[6] === "weight") {
        if (t.shape.length !== 5) mismatches.push(`${fullName}: expected a 5-d ConvTranspose3d weight, got [${t.shape}]`);
        else {
          const r = reverseAxes(t.values, t.shape);
          put(`${level}.t.w`, r.values, r.shape, fullName);
        }
      } else put(`${level}.t.b`, Float32Array.from(t.values), t.shape, fullName);
      continue;
    }
    const block = m[3] === "0" ? "a" : m[3] === "1" ? "b" : undefined;
    const [layer, field] = [m[4], m[5]];
    if (!block) {
      unused.push(fullName);
      continue;
    }
    const base = `${level}.${block}`;
    if (layer === "bn1") {
      if (!(field in BN)) {
        unused.push(fullName); // num_batches_tracked
        continue;
      }
      put(`${base}.bn.${BN[field]}`, Float32Array.from(t.values), t.shape, fullName);
    } else if (field === "bias") {
      put(`${base}.conv.b`, Float32Array.from(t.values), t.shape, fullName);
    } else if (field === "weight") {
      if (t.shape.length !== 5) {
        mismatches.push(`${fullName}: expected a 5-d Conv3d weight, got [${t.shape}]`);
        continue;
      }
      const r = reverseAxes(t.values, t.shape); // [kz, ky, kx, in, out]
      if (level.startsWith("up") && block === "a") {
        // The concatenation's filter: upsampled channels first, then the skip channels.
        const w0 = modelShape(`${base}.conv.w0`) as number[];
        const w1 = modelShape(`${base}.conv.w1`) as number[];
        const want = [w0[0], w0[1], w0[2], w0[3] + w1[3], w0[4]];
        if (!sameShape(want, r.shape)) {
          mismatches.push(
            `${fullName} -> ${base}.conv.w0 + w1: checkpoint [${r.shape}] (kit layout), model [${want}] (${w0[3]} upsampled + ${w1[3]} skip channels)`,
          );
          continue;
        }
        const [a, b] = splitInputChannels(r.values, r.shape, [w0[3], w1[3]]);
        assign.set(`${base}.conv.w0`, a);
        assign.set(`${base}.conv.w1`, b);
      } else put(`${base}.conv.w`, r.values, r.shape, fullName);
    } else unused.push(fullName);
  }
  if (mismatches.length) {
    const shown = mismatches.slice(0, 20).concat(mismatches.length > 20 ? [`... and ${mismatches.length - 20} more`] : []);
    throw new TorchCheckpointError(`${source}: ${mismatches.length} parameter(s) do not fit the model (different widths?):\n  ${shown.join("\n  ")}`);
  }
  const all = [...params.trainable.keys(), ...params.buffers.keys()];
  for (const [name, values] of assign) {
    const v = params.get(name);
    tf.tidy(() => v.assign(tf.tensor(values, v.shape)));
  }
  return { loaded: all.filter((n) => assign.has(n)), left: all.filter((n) => !assign.has(n)), unused };
}

/** Read a .pt file and map it onto the model (see applyGenesisWeights). */
export function loadGenesisWeights(model: UniversalUNet, file: string): InitReport {
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(file);
  } catch (e) {
    throw new TorchCheckpointError(`${file}: cannot read (${(e as Error).message})`);
  }
  const ck = readTorchCheckpoint(bytes, file);
  const report = applyGenesisWeights(model, stateDictOf(ck, file), file);
  if (report.loaded.length === 0)
    throw new TorchCheckpointError(`${file}: no parameter matches the Models Genesis UNet3D names (down_tr64.ops.0.conv1.weight, ...)`);
  return report;
}

/** One line per list, for logs. */
export function describeInit(file: string, r: InitReport): string[] {
  const short = (xs: string[]) => (xs.length > 12 ? `${xs.slice(0, 12).join(", ")}, ... (${xs.length})` : xs.join(", ") || "none");
  return [
    `init: loaded ${r.loaded.length} parameters from ${file}: ${short(r.loaded)}`,
    `init: left at their initialisation: ${r.left.length}: ${short(r.left)}`,
    `init: not used from the checkpoint: ${r.unused.length}: ${short(r.unused)}`,
  ];
}
