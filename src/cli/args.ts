/** Reading command-line values: one message template naming the flag, the range and the value. */
export function numberFlag(name: string, value: string | undefined, fallback: number, min: number, max = Infinity): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n) || n < min || n > max) {
    const range = max === Infinity ? `>= ${min}` : `in [${min}, ${max}]`;
    throw new Error(`--${name}: expected a number ${range}, received ${JSON.stringify(value)}`);
  }
  return n;
}
