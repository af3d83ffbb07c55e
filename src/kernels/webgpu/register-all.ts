/**
 * Everything the kit registers for tfjs's webgpu backend (src/backend.ts calls it once the backend is
 * up). One kernel or fix per file in this folder.
 */
import { registerRankCollapse } from "./rank-collapse.js";

export function registerWebGpuKernels(): string[] {
  registerRankCollapse();
  return ["rank-5 element-wise ops and Select run at rank <= 4 (reshaped views)"];
}
