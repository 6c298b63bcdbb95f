// WorkerRollout's rule (worker-rollout.ts) on stand-in workers whose answers are scripted: a
// reload every worker took is applied; one some took is partial, the others asked again, then
// replaced, then applied; one no worker took (refused, or nobody answered) is rejected, the
// previous generation kept and a worker found on the rejected one brought back. The real
// processes: reload-partial-workers.test.ts, reload-stuck-workers.test.ts.
import { describe, expect, it } from 'vitest';
import type { GatewayConfig } from '../../src/gateway/config-types.js';
import type { Logger } from '../../src/gateway/logger.js';
import { ReloadRecord } from '../../src/gateway/reload-record.js';
import { WorkerRollout, isWorkerRefusal, workerRefusal } from '../../src/gateway/worker-rollout.js';
import type { RolloutWorker } from '../../src/gateway/worker-rollout.js';

type Answer = 'ok' | 'refuse' | 'silent' | 'hold';

interface Stand extends RolloutWorker {
  dead: boolean;
  /** What it answers to its next reloads, in turn ('ok' once the script is done). */
  answers: Answer[];
  asked: number[];
}

const config = (limit: number): GatewayConfig => ({ upstreams: { app: { url: 'http://127.0.0.1:9' } }, policies: { p: { concurrency: { limit } } }, routes: [{ path: '/', upstream: 'app', policy: 'p' }] }) as GatewayConfig;

function setup(scripts: Answer[][]) {
  const record = new ReloadRecord();
  const logs: { level: string; msg: string; fields: Record<string, unknown> }[] = [];
  const log = (level: string) => (msg: string, fields: Record<string, unknown> = {}) => void logs.push({ level, msg, fields });
  const logger: Logger = { debug: log('debug'), info: log('info'), warn: log('warn'), error: log('error') };
  const workers: Stand[] = scripts.map((answers, index) => ({ index, generation: 1, dead: false, replacing: false, answers: [...answers], asked: [] }));
  const replaced: number[] = [];
  const held: (() => void)[] = [];
  const rollout: WorkerRollout<Stand> = new WorkerRollout<Stand>(
    {
      workers: () => workers,
      reload: (w, _c, generation) => {
        w.asked.push(generation);
        const a = w.answers.shift() ?? 'ok';
        if (a === 'ok') return Promise.resolve();
        if (a === 'hold') return new Promise<void>((resolve) => held.push(resolve));
        return Promise.reject(a === 'refuse' ? workerRefusal(`worker ${w.index} cannot build it`) : new Error(`worker ${w.index} did not answer reload within 5000 ms`));
      },
      replace: (w) => {
        replaced.push(w.index);
        // Its replacement: it exits, and a new one starts with the config in force.
        w.dead = true;
        workers[w.index] = { index: w.index, generation: rollout.current.generation, dead: false, replacing: false, answers: [], asked: [] };
        return Promise.resolve();
      },
      record,
      logger,
      summary: (c) => ({ routes: c.routes.length, workers: workers.length }),
    },
    config(8),
  );
  const settled = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 0));
  return { record, logs, workers, replaced, rollout, held, settled };
}

describe('WorkerRollout', () => {
  it('every worker takes it: applied, its generation in force', async () => {
    const { rollout, record, workers, logs } = setup([[], []]);
    await expect(rollout.reload(config(4))).resolves.toBe('applied');
    expect(record.snapshot()).toMatchObject({ applied: 1, partial: 0, rejected: 0, generation: 2, last: { outcome: 'applied', generation: 2 } });
    expect(workers.map((w) => w.generation)).toEqual([2, 2]);
    expect(logs.filter((l) => l.msg === 'reloaded').map((l) => l.fields)).toEqual([{ routes: 1, workers: 2, generation: 2 }]);
  });

  it('one refuses, then takes it when asked again: partial, then applied, never replaced', async () => {
    const { rollout, record, workers, replaced, settled, logs } = setup([['refuse'], []]);
    await expect(rollout.reload(config(4))).resolves.toBe('partial');
    expect(logs.find((l) => l.msg === 'reload partial: converging')?.fields).toMatchObject({ generation: 2, failed: [{ worker: 0 }], workers: [{ worker: 0, generation: 1 }, { worker: 1, generation: 2 }] });
    await settled();
    expect(workers[0]!.asked).toEqual([2, 2]);
    expect(replaced).toEqual([]);
    expect(record.snapshot()).toMatchObject({ applied: 1, partial: 1, rejected: 0, generation: 2, last: { outcome: 'applied', generation: 2 }, lastPartial: { error: expect.stringContaining('worker 0: worker 0 cannot build it') as unknown } });
  });

  it('one does not answer, and is slow to take it when asked again: partial until it does, then applied', async () => {
    const { rollout, record, workers, replaced, settled, held } = setup([['silent', 'hold'], []]);
    await expect(rollout.reload(config(4))).resolves.toBe('partial');
    await settled();
    expect(record.snapshot().last).toMatchObject({ outcome: 'partial', generation: 2 });
    held.shift()!(); // it takes it
    await settled();
    expect(record.snapshot().last).toMatchObject({ outcome: 'applied', generation: 2 });
    expect(replaced).toEqual([]);
    expect(workers.map((w) => w.generation)).toEqual([2, 2]);
  });

  it('one does not answer twice: replaced, its replacement started with generation 2; then applied', async () => {
    const { rollout, record, workers, replaced, settled, logs } = setup([['silent', 'silent'], []]);
    await rollout.reload(config(4));
    await settled();
    expect(replaced).toEqual([0]);
    expect(workers.map((w) => w.generation)).toEqual([2, 2]);
    expect(record.snapshot()).toMatchObject({ applied: 1, partial: 1, last: { outcome: 'applied', generation: 2 } });
    expect(logs.some((l) => l.msg === 'worker did not take the config: replacing it' && l.fields['worker'] === 0)).toBe(true);
  });

  it('every worker that answered refused it and none took it: rejected, generation 1 stays, thrown', async () => {
    const { rollout, record, workers } = setup([['refuse'], ['silent']]);
    await expect(rollout.reload(config(4))).rejects.toThrow(/no worker took generation 2, generation 1 stays/);
    expect(rollout.current.generation).toBe(1);
    expect(workers.map((w) => w.generation)).toEqual([1, 1]);
    expect(record.snapshot()).toMatchObject({ applied: 0, partial: 0, rejected: 1, generation: 1, last: { outcome: 'rejected', generation: 2 } });
    // The silent one answers late (its status says it runs 2): it is brought back to 1.
    workers[1]!.generation = 2;
    rollout.check();
    expect(workers[1]!.asked).toEqual([2, 1]);
  });

  it('no worker answered (none refused): rejected, generation 1 stays, nobody replaced; one that takes it late is brought back', async () => {
    const { rollout, record, settled, workers, replaced } = setup([['silent'], ['silent']]);
    await expect(rollout.reload(config(4))).rejects.toThrow(/no worker took generation 2, generation 1 stays \(worker 0: worker 0 did not answer reload within 5000 ms; worker 1: /);
    expect(record.snapshot()).toMatchObject({ applied: 0, partial: 0, rejected: 1, generation: 1, last: { outcome: 'rejected', generation: 2 } });
    expect(rollout.current.generation).toBe(1);
    await settled();
    expect(replaced).toEqual([]);
    expect(workers.map((w) => w.generation)).toEqual([1, 1]);
    // Both apply it late (their status says 2): each is asked back to 1.
    for (const w of workers) w.generation = 2;
    rollout.check();
    await settled();
    expect(workers.map((w) => w.asked)).toEqual([
      [2, 1],
      [2, 1],
    ]);
    expect(workers.map((w) => w.generation)).toEqual([1, 1]);
    expect(replaced).toEqual([]);
  });

  it('a newer reload while one converges: it is not replaced for the older generation, and ends on the newer', async () => {
    const { rollout, record, workers, replaced, settled, held } = setup([['silent', 'hold', 'hold'], []]);
    await rollout.reload(config(4));
    // Worker 0 is being asked generation 2 again (held) when generation 3 comes; it answers in
    // the order asked (worker.ts runs its reloads one at a time).
    const third = rollout.reload(config(2));
    await settled();
    held.shift()!();
    await settled();
    held.shift()!();
    await expect(third).resolves.toBe('applied');
    await settled();
    expect(replaced).toEqual([]);
    expect(workers.map((w) => w.generation)).toEqual([3, 3]);
    expect(record.snapshot()).toMatchObject({ applied: 1, partial: 1, generation: 3, last: { outcome: 'applied', generation: 3 } });
  });

  it('tells a refusal from an unanswered call', () => {
    expect(isWorkerRefusal(workerRefusal('x'))).toBe(true);
    expect(isWorkerRefusal(new Error('x'))).toBe(false);
    expect(isWorkerRefusal(undefined)).toBe(false);
  });
});
