/**
 * Max-coverage reduction: remove the r most redundant items. Similarity s(a,b) = (f_a . f_b + 1) / 2
 * with the diagonal at -10; r times, take every row's maximum, remove the item whose row maximum is
 * largest (ties: the earlier item), and set its row and column to -10.
 * Returns positions into `features`, in removal order.
 */
export function maxCoverageRemovals(features: readonly (readonly number[])[], r: number): number[] {
  const n = features.length;
  if (r > n) throw new Error(`maxCoverageRemovals: cannot remove ${r} of ${n}`);
  const s: number[][] = features.map((fa, a) =>
    features.map((fb, b) => {
      if (a === b) return -10;
      let d = 0;
      for (let i = 0; i < fa.length; i++) d += fa[i] * fb[i];
      return (d + 1) / 2;
    }),
  );
  const removed: number[] = [];
  for (let step = 0; step < r; step++) {
    let best = -1;
    let bestVal = -Infinity;
    for (let a = 0; a < n; a++) {
      if (removed.includes(a)) continue;
      const rowMax = Math.max(...s[a]);
      if (rowMax > bestVal) {
        bestVal = rowMax;
        best = a;
      }
    }
    removed.push(best);
    for (let k = 0; k < n; k++) {
      s[best][k] = -10;
      s[k][best] = -10;
    }
  }
  return removed;
}
