/** Medians and paired ratios: the only summaries the benchmark reports (run-to-run spread is 13-50%). */

export function median(values: number[]): number {
  const v = values.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (v.length === 0) return Number.NaN;
  const mid = v.length >> 1;
  return v.length % 2 ? v[mid] : (v[mid - 1] + v[mid]) / 2;
}

export function min(values: number[]): number {
  return Math.min(...values.filter((x) => Number.isFinite(x)));
}

export function max(values: number[]): number {
  return Math.max(...values.filter((x) => Number.isFinite(x)));
}

/**
 * The median over rounds of `f(a_r, b_r)`: each round's pair was measured seconds apart, so a ratio
 * within a round cancels the machine's drift that a ratio of two medians would keep.
 */
export function pairedMedian<T>(a: (T | undefined)[], b: (T | undefined)[], f: (a: T, b: T) => number): PairedStat {
  const values: number[] = [];
  for (let i = 0; i < Math.min(a.length, b.length); i++) {
    const x = a[i];
    const y = b[i];
    if (x !== undefined && y !== undefined) values.push(f(x, y));
  }
  return {
    median: median(values),
    min: values.length ? min(values) : Number.NaN,
    max: values.length ? max(values) : Number.NaN,
    n: values.length,
  };
}

export interface PairedStat {
  median: number;
  min: number;
  max: number;
  /** Rounds that had both. */
  n: number;
}

/** `xs` rotated left by `by`: round r starts with a different system, so none always goes first. */
export function rotate<T>(xs: T[], by: number): T[] {
  if (xs.length === 0) return xs;
  const k = ((by % xs.length) + xs.length) % xs.length;
  return [...xs.slice(k), ...xs.slice(0, k)];
}
