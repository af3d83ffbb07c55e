/** Cosine decay over the single pass: lr = base * 0.5 * (1 + cos(pi * progress)). */
export function cosineLr(base: number, step: number, total: number): number {
  const progress = total > 0 ? Math.min(1, Math.max(0, step / total)) : 1;
  return base * 0.5 * (1 + Math.cos(Math.PI * progress));
}
