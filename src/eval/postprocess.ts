/**
 * The reference's post-processing before scoring (test.py -> utils/utils.py organ_post_process), as pure
 * functions on binary masks (Uint8Array, 0/1) of shape [X, Y, Z], x fastest (index x + X (y + Y z)).
 * The reference's numpy arrays are [x, y, z] too: its "axis 0" is the kit's x, its last axis the kit's z.
 *
 * Per class of the case's template (organ_list):
 * - 1-9, 12-14, 18-25: keep the largest 26-connected component (cc3d, connectivity 26);
 * - 11 (pancreas): largest component; then the portal/splenic vein (10), when in the template, loses every
 *   voxel below the pancreas's lowest z slice (PSVein_post_process);
 * - 16/17 (right/left lung): the union of both predictions split into its two largest components, the one
 *   with the smaller mean x being the left lung (17) (lung_post_process); one component or none: both
 *   empty (the reference's IndexError path); when one lung is over 4x the other, the larger one is
 *   looked at in halves along x and given wholly to the right or left lung if one half holds over 4x the
 *   other ((half + 1) ratios);
 * - 26 (kidney tumour) / 27 (liver tumour): kept only inside the two largest components of the raw
 *   kidney predictions (2 and 3 merged) / the largest component of the raw liver prediction (6), closed
 *   and then dilated with a 5x5x5 cube (TUMOR_ORGAN, merge_and_top_organ + organ_region_filter_out);
 * - every other class as predicted.
 * The lungs are separated when either lung is in the template (the reference only when 16 is: with 17
 * alone it would score an empty left lung; no PAOT template has one without the other).
 * Not reproduced: the reference's lung "anomaly detection" (pandas rolling statistics over slice sums,
 * iterative erosion, distance transforms, hole filling), reached only when one lung is over 4x the other
 * and neither half of it dominates; there the kit keeps the two-component split as it is.
 */
import { componentsBySize, connectedComponents26 } from "../data/components.js";
import type { Vec3 } from "../data/volume.js";

export type Mask = Uint8Array;

const voxels = (s: Vec3) => s[0] * s[1] * s[2];

function checkShape(m: Mask, shape: Vec3, what: string): void {
  if (m.length !== voxels(shape)) throw new Error(`${what}: mask of ${m.length} voxels for shape ${shape.join("x")}`);
}

/** Keep the k largest 26-connected components (extract_topk_largest_candidates; k = 1: the largest). */
export function largestComponents(mask: Mask, shape: Vec3, k = 1): Mask {
  const c = connectedComponents26(mask, shape);
  const keep = new Set(componentsBySize(c).slice(0, k));
  const out = new Uint8Array(mask.length);
  for (let i = 0; i < out.length; i++) if (c.labels[i] && keep.has(c.labels[i])) out[i] = 1;
  return out;
}

/** Largest 26-connected component. */
export function largestComponent(mask: Mask, shape: Vec3): Mask {
  return largestComponents(mask, shape, 1);
}

/** Separable max (dilation) or min (erosion) filter with a cube of side 2 * radius + 1; outside = 0. */
function cubeFilter(mask: Mask, shape: Vec3, radius: number, erode: boolean): Mask {
  const [X, Y] = shape;
  const strides = [1, X, X * Y];
  let cur: Mask = Uint8Array.from(mask, (v) => (v ? 1 : 0));
  for (let axis = 0; axis < 3; axis++) {
    const n = shape[axis];
    const st = strides[axis];
    const next = new Uint8Array(cur.length);
    for (let v = 0; v < cur.length; v++) {
      const p = Math.floor(v / st) % n;
      let acc = erode ? 1 : 0;
      for (let d = -radius; d <= radius; d++) {
        const q = p + d;
        const val = q < 0 || q >= n ? 0 : cur[v + d * st];
        if (erode ? !val : val) {
          acc = erode ? 0 : 1;
          break;
        }
      }
      next[v] = acc;
    }
    cur = next;
  }
  return cur;
}

/** Binary dilation by a cube of side `side` (odd): scipy's binary_dilation with np.ones((side,)*3). */
export function dilateCube(mask: Mask, shape: Vec3, side = 5): Mask {
  if (side % 2 !== 1) throw new Error(`dilateCube: side must be odd, got ${side}`);
  checkShape(mask, shape, "dilateCube");
  return cubeFilter(mask, shape, (side - 1) / 2, false);
}

/** Binary erosion by a cube, voxels outside the volume counting as 0 (scipy's border_value=0). */
export function erodeCube(mask: Mask, shape: Vec3, side = 5): Mask {
  if (side % 2 !== 1) throw new Error(`erodeCube: side must be odd, got ${side}`);
  checkShape(mask, shape, "erodeCube");
  return cubeFilter(mask, shape, (side - 1) / 2, true);
}

/** Tumour voxels inside the organ mask closed and then dilated with a 5x5x5 cube (organ_region_filter_out). */
export function keepInsideOrgan(tumour: Mask, organ: Mask, shape: Vec3, side = 5): Mask {
  checkShape(tumour, shape, "keepInsideOrgan");
  const closed = erodeCube(dilateCube(organ, shape, side), shape, side);
  const region = dilateCube(closed, shape, side);
  return Uint8Array.from(tumour, (v, i) => (v && region[i] ? 1 : 0));
}

/**
 * Portal/splenic vein cut against the pancreas (PSVein_post_process): vein voxels on z slices below the
 * pancreas's lowest z are removed. An empty pancreas leaves the vein as it is (the reference fails there).
 */
export function cutVeinBelowPancreas(vein: Mask, pancreas: Mask, shape: Vec3): Mask {
  checkShape(vein, shape, "cutVeinBelowPancreas");
  checkShape(pancreas, shape, "cutVeinBelowPancreas");
  const XY = shape[0] * shape[1];
  let zMin = -1;
  for (let i = 0; i < pancreas.length; i++) {
    if (pancreas[i]) {
      zMin = Math.floor(i / XY);
      break;
    }
  }
  const out = Uint8Array.from(vein, (v) => (v ? 1 : 0));
  if (zMin > 0) out.fill(0, 0, zMin * XY);
  return out;
}

const sum = (m: Mask) => m.reduce((a, v) => a + (v ? 1 : 0), 0);

/**
 * Right/left lung separation (lung_post_process and organ_post_process's size check). Input: the raw
 * right (16) and left (17) lung predictions; output: the separated right and left lungs.
 */
export function splitLungs(right: Mask, left: Mask, shape: Vec3): { right: Mask; left: Mask } {
  checkShape(right, shape, "splitLungs");
  checkShape(left, shape, "splitLungs");
  const X = shape[0];
  const union = Uint8Array.from(right, (v, i) => (v || left[i] ? 1 : 0));
  const c = connectedComponents26(union, shape);
  const n = union.length;
  if (c.count < 2) return { right: new Uint8Array(n), left: new Uint8Array(n) }; // the reference's IndexError
  const [one, two] = componentsBySize(c);
  let sx1 = 0,
    sx2 = 0;
  for (let i = 0; i < n; i++) {
    if (c.labels[i] === one) sx1 += i % X;
    else if (c.labels[i] === two) sx2 += i % X;
  }
  const leftLabel = sx1 / c.sizes[one] < sx2 / c.sizes[two] ? one : two;
  const rightLabel = leftLabel === one ? two : one;
  let r: Mask = Uint8Array.from(c.labels, (l) => (l === rightLabel ? 1 : 0));
  let l: Mask = Uint8Array.from(c.labels, (lab) => (lab === leftLabel ? 1 : 0));
  const rs = sum(r);
  const ls = sum(l);
  const big = rs > ls ? r : l;
  if ((rs > ls && rs / ls > 4) || (rs <= ls && ls / rs > 4)) {
    const mid = Math.floor(X / 2);
    let lowHalf = 0,
      highHalf = 0;
    for (let i = 0; i < n; i++) {
      if (!big[i]) continue;
      if (i % X < mid) lowHalf++;
      else highHalf++;
    }
    if ((highHalf + 1) / (lowHalf + 1) > 4) {
      r = big; // only a right lung
      l = new Uint8Array(n);
    } else if ((lowHalf + 1) / (highHalf + 1) > 4) {
      l = big; // only a left lung
      r = new Uint8Array(n);
    }
    // else: the reference's anomaly detection, not reproduced (see the header).
  }
  return { right: r, left: l };
}

/** LCC classes of organ_post_process (11, pancreas, is handled with the vein). */
export const LARGEST_COMPONENT_CLASSES: readonly number[] = [1, 2, 3, 4, 5, 6, 7, 8, 9, 12, 13, 14, 18, 19, 20, 21, 22, 23, 24, 25];
/**
 * The organs whose predictions bound each filtered tumour class: the reference filters classes 26 and 27
 * by TUMOR_ORGAN of their names, Kidney Tumor (26) by both kidneys (2, 3; their two largest components)
 * and Liver Tumor (27) by the liver (6).
 */
export const TUMOUR_ORGANS: Readonly<Record<number, readonly number[]>> = { 26: [2, 3], 27: [6] };

/**
 * The raw predictions post-processing needs to produce the given classes of a case whose template is
 * `organList`: the classes themselves plus pancreas (vein cut), both lungs (split), the kidneys / the
 * liver (tumour filters).
 */
export function classesNeeded(classes: readonly number[], organList: readonly number[]): number[] {
  const need = new Set(classes);
  for (const k of classes) {
    if (k === 10 && organList.includes(11)) need.add(11);
    if ((k === 16 || k === 17) && (organList.includes(16) || organList.includes(17))) {
      need.add(16);
      need.add(17);
    }
    for (const o of TUMOUR_ORGANS[k] ?? []) need.add(o);
  }
  return [...need].sort((a, b) => a - b);
}

/**
 * organ_post_process for one case: `raw` holds the thresholded predictions by class id (absent classes
 * count as empty); returns the post-processed mask of every class of `organList` that `raw` has or that
 * post-processing derives (the lungs).
 */
export function postprocessCase(raw: ReadonlyMap<number, Mask>, organList: readonly number[], shape: Vec3): Map<number, Mask> {
  const n = voxels(shape);
  const empty = new Uint8Array(n);
  const get = (k: number) => raw.get(k) ?? empty;
  const out = new Map<number, Mask>();
  for (const organ of organList) {
    if (organ === 11) {
      const pancreas = largestComponent(get(11), shape);
      out.set(11, pancreas);
      if (organList.includes(10)) out.set(10, cutVeinBelowPancreas(get(10), pancreas, shape));
    } else if (organ === 10) {
      if (!organList.includes(11) && raw.has(10)) out.set(10, get(10).slice());
    } else if (organ === 16 || organ === 17) {
      if (out.has(16)) continue;
      const s = splitLungs(get(16), get(17), shape);
      out.set(16, s.right);
      out.set(17, s.left);
    } else if (LARGEST_COMPONENT_CLASSES.includes(organ)) {
      if (raw.has(organ)) out.set(organ, largestComponent(get(organ), shape));
    } else if (TUMOUR_ORGANS[organ]) {
      if (!raw.has(organ)) continue;
      const organs = TUMOUR_ORGANS[organ];
      const merged = new Uint8Array(n);
      for (const o of organs) get(o).forEach((v, i) => v && (merged[i] = 1));
      const organMask = largestComponents(merged, shape, organs.length);
      out.set(organ, keepInsideOrgan(get(organ), organMask, shape));
    } else if (raw.has(organ)) {
      out.set(organ, get(organ).slice());
    }
  }
  return out;
}
