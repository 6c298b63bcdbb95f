/** The closed-loop row's probe: a fresh connection a few times a second beside wrk (closed-loop.ts). */
import { request } from 'node:http';

/** A fresh connection every `everyMs` once `start` resolves: the status and latency of each answer. */
export function probe(url: string, everyMs: number, start: Promise<unknown>): { stop: () => Promise<{ refusals: number[] }> } {
  const refusals: number[] = [];
  const pending = new Set<Promise<void>>();
  const u = new URL(url);
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  const started = start.then(() => {
    if (!stopped) timer = setInterval(send, everyMs);
  });
  const send = (): void => {
    const t0 = performance.now();
    const p = new Promise<void>((resolve) => {
      const req = request({ host: u.hostname, port: u.port, path: '/probe', agent: false, timeout: 5000 }, (res) => {
        res.resume();
        res.on('end', () => {
          if (res.statusCode === 503 || res.statusCode === 429) refusals.push(performance.now() - t0);
          resolve();
        });
      });
      req.on('error', () => resolve());
      req.on('timeout', () => req.destroy());
      req.end();
    });
    pending.add(p);
    void p.then(() => pending.delete(p));
  };
  return {
    stop: async () => {
      stopped = true;
      await started;
      clearInterval(timer);
      await Promise.all(pending);
      return { refusals };
    },
  };
}

export function p99(xs: readonly number[]): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil(0.99 * s.length) - 1)]!;
}

