/**
 * Connected components of binary masks of shape [X, Y, Z], x fastest (index x + X (y + Y z)), with
 * 26-connectivity as the reference's cc3d (connectivity 26). Used by the label transfer (right/left split)
 * and by the evaluation's post-processing.
 */
import type { Vec3 } from "./volume.js";

export interface Components {
  /** Component label per voxel (0 = background), 1..count in order of first voxel (x fastest). */
  labels: Int32Array;
  /** Voxel count per label; sizes[0] is unused (0). */
  sizes: number[];
  count: number;
}

/** Connected components of the non-zero voxels with 26-connectivity (faces, edges and corners). */
export function connectedComponents26(mask: Uint8Array, shape: Vec3): Components {
  if (mask.length !== shape[0] * shape[1] * shape[2]) throw new Error(`connectedComponents26: mask of ${mask.length} voxels for shape ${shape.join("x")}`);
  const [X, Y, Z] = shape;
  const XY = X * Y;
  const labels = new Int32Array(mask.length);
  const sizes = [0];
  const stack = new Int32Array(mask.length);
  let count = 0;
  for (let start = 0; start < mask.length; start++) {
    if (!mask[start] || labels[start]) continue;
    count += 1;
    let size = 0;
    let top = 0;
    stack[top++] = start;
    labels[start] = count;
    while (top > 0) {
      const v = stack[--top];
      size += 1;
      const x = v % X;
      const y = Math.floor(v / X) % Y;
      const z = Math.floor(v / XY);
      for (let dz = -1; dz <= 1; dz++) {
        const zz = z + dz;
        if (zz < 0 || zz >= Z) continue;
        for (let dy = -1; dy <= 1; dy++) {
          const yy = y + dy;
          if (yy < 0 || yy >= Y) continue;
          for (let dx = -1; dx <= 1; dx++) {
            const xx = x + dx;
            if (xx < 0 || xx >= X) continue;
            const u = xx + X * (yy + Y * zz);
            if (mask[u] && !labels[u]) {
              labels[u] = count;
              stack[top++] = u;
            }
          }
        }
      }
    }
    sizes.push(size);
  }
  return { labels, sizes, count };
}

/** Component labels by size, largest first (ties: the earlier label, i.e. the earlier first voxel). */
export function componentsBySize(c: Components): number[] {
  return Array.from({ length: c.count }, (_, i) => i + 1).sort((a, b) => c.sizes[b] - c.sizes[a] || a - b);
}
