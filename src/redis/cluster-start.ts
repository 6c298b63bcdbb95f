/**
 * A Redis Cluster whose client is ready may still have a master that does not answer: ioredis
 * is ready once its seed node gave the slot map, and a master frozen, or whose host vanished
 * after the handshake, is found only by the calls sent to it. The store started 'shared', and a
 * third of the decisions (that master's slots) each waited out the timeout until `failures` of
 * them in a row opened the breaker. So at start the store sends its probe (a write, one key per
 * master: probe-keys.ts) and starts in its failure mode when a master does not take it, naming it.
 */
import type { Cluster } from 'ioredis';
import { keySlot } from './keys.js';

/**
 * The masters of `cluster` that did not take `probe` of their key (`keys`, one per master) within
 * `ms`, each with why: `host:port (no reply within N ms)` or `host:port (<its error>)`. Empty when
 * all did. Never waits longer than `ms`: a probe still unanswered then is left to settle by itself.
 */
export async function silentMasters(cluster: Cluster, keys: readonly string[], probe: (key: string) => Promise<unknown>, ms: number): Promise<string[]> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<'late'>((r) => (timer = setTimeout(r, ms, 'late')));
  const outcomes = await Promise.all(
    keys.map(async (key) => {
      const master = cluster.slots[keySlot(key)]?.[0] ?? key;
      const answer = probe(key).then(
        () => undefined,
        (err: unknown) => `${master} (${err instanceof Error ? err.message : String(err)})`,
      );
      const r = await Promise.race([answer, late]);
      return r === 'late' ? `${master} (no reply within ${ms} ms)` : r;
    }),
  );
  clearTimeout(timer);
  return outcomes.filter((o): o is string => o !== undefined);
}
