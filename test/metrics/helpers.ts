import type { Registry } from 'prom-client';

/** The exposition text's sample lines of one metric (a histogram's _bucket, _sum and _count included). */
export async function series(registry: Registry, prefix: string): Promise<string[]> {
  const text = await registry.metrics();
  const re = new RegExp(`^${prefix}(?:_bucket|_sum|_count)?[{ ]`);
  return text.split('\n').filter((l) => re.test(l));
}
