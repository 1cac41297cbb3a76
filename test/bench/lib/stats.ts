/** Small statistics helpers: percentiles by nearest rank, medians, rounding. */

/** The p-th percentile (0–100) of `values` by nearest rank; undefined when empty. */
export function percentile(values: readonly number[], p: number, sorted = false): number | undefined {
  if (values.length === 0) return undefined;
  const list = sorted ? values : [...values].sort((a, b) => a - b);
  const rank = Math.min(list.length, Math.max(1, Math.ceil((p / 100) * list.length)));
  return list[rank - 1];
}

export function median(values: readonly number[]): number | undefined {
  if (values.length === 0) return undefined;
  const list = [...values].sort((a, b) => a - b);
  const mid = Math.floor(list.length / 2);
  return list.length % 2 === 1 ? list[mid] : (list[mid - 1]! + list[mid]!) / 2;
}

export interface Distribution {
  count: number;
  p50?: number;
  p95?: number;
  p99?: number;
  max?: number;
  mean?: number;
}

export function distribution(values: readonly number[]): Distribution {
  if (values.length === 0) return { count: 0 };
  const list = Float64Array.from(values).sort();
  const arr = Array.from(list);
  let sum = 0;
  for (const v of arr) sum += v;
  return {
    count: arr.length,
    p50: percentile(arr, 50, true),
    p95: percentile(arr, 95, true),
    p99: percentile(arr, 99, true),
    max: arr[arr.length - 1],
    mean: round(sum / arr.length, 2),
  };
}

export function round(value: number | undefined, digits = 1): number | undefined {
  if (value === undefined || !Number.isFinite(value)) return value;
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}

/** a / b, rounded; undefined when either is missing or b is 0. */
export function ratio(a: number | undefined, b: number | undefined, digits = 2): number | undefined {
  if (a === undefined || b === undefined || b === 0) return undefined;
  return round(a / b, digits);
}
