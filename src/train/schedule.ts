/**
 * Learning rate per step: cosine decay over the single pass, lr = base * 0.5 * (1 + cos(pi * progress))
 * (the reference's 'cos' schedule), optionally after a linear warm-up over the first `warmup` steps (not
 * in the reference: a deviation for short runs, where the first large Adam steps kill the dynamic head's
 * hidden units; docs/training-study.md).
 * `step` counts from 0; like the reference (train.py: the batch counter is advanced before
 * adjust_learning_rate, progress = batch_i / len(train_loader)), step k is at progress (k + 1) / total,
 * so the first step is already slightly decayed and the last one runs at lr 0.
 */
export function cosineLr(base: number, step: number, total: number, warmup = 0): number {
  if (warmup > 0 && step < warmup) return (base * (step + 1)) / warmup;
  const progress = total > warmup ? Math.min(1, Math.max(0, (step + 1 - warmup) / (total - warmup))) : 1;
  return base * 0.5 * (1 + Math.cos(Math.PI * progress));
}

/**
 * The reference's iteration budget, `len(sampler) * S // B` with its drop_last sampler: the stream is cut
 * to whole batches (`floor(len / B) * B` cases; the tail never arrives), so the budget is floor(len / B) * S.
 */
export function onlineBudget(streamLength: number, batchSize: number, samplingRate: number): number {
  return Math.floor(streamLength / batchSize) * samplingRate;
}

/** Stream cases that arrive in the online protocol: whole batches only (the reference's drop_last). */
export function usableStreamLength(streamLength: number, batchSize: number): number {
  return Math.floor(streamLength / batchSize) * batchSize;
}
