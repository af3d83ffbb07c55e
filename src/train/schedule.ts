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
 * The reference's iteration budget, `len(sampler) * S // B` with its drop_last sampler, counted per rank:
 * with R ranks (MyDistributedSampler) each rank gets floor(len / (B R)) whole batches, and a rank's
 * budget, which is also the run's (all ranks step together under DDP), is floor(len / (B R)) * S. The
 * tail that does not fill a batch on every rank never arrives. With R = 1: floor(len / B) * S.
 */
export function onlineBudget(streamLength: number, batchSize: number, samplingRate: number, ranks = 1): number {
  return Math.floor(streamLength / (batchSize * ranks)) * samplingRate;
}

/** Stream cases that arrive in the online protocol: whole batches on every rank only (drop_last). */
export function usableStreamLength(streamLength: number, batchSize: number, ranks = 1): number {
  return Math.floor(streamLength / (batchSize * ranks)) * batchSize * ranks;
}

/** Cases of one rank's share of the stream (the reference's `num_samples`). */
export function rankStreamLength(streamLength: number, batchSize: number, ranks: number): number {
  return Math.floor(streamLength / (batchSize * ranks)) * batchSize;
}

/**
 * Stream position of rank r's k-th case: the reference deals the stream out in batches of B, batch j to
 * rank j mod R (MyDistributedSampler without shuffling), so with B = 1 rank r gets r, r + R, r + 2R, ...
 */
export function rankStreamIndex(k: number, rank: number, batchSize: number, ranks: number): number {
  return Math.floor(k / batchSize) * batchSize * ranks + rank * batchSize + (k % batchSize);
}
