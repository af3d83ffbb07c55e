/**
 * Learning rate per step: cosine decay over the single pass, lr = base * 0.5 * (1 + cos(pi * progress))
 * (the reference's 'cos' schedule), optionally after a linear warm-up over the first `warmup` steps (not
 * in the reference: a deviation for short runs, where the first large Adam steps kill the dynamic head's
 * hidden units; docs/training-study.md).
 */
export function cosineLr(base: number, step: number, total: number, warmup = 0): number {
  if (warmup > 0 && step < warmup) return (base * (step + 1)) / warmup;
  const progress = total > warmup ? Math.min(1, Math.max(0, (step - warmup) / (total - warmup))) : 1;
  return base * 0.5 * (1 + Math.cos(Math.PI * progress));
}
