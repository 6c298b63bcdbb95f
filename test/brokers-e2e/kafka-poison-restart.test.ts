// A poison message (its handler throws every time) on Kafka, whose consumer process is killed
// (SIGKILL, other handlers mid-flight) after the poison's first failure, and again after its
// next, and started a third time: the
// poison is dead-lettered after maxAttempts attempts IN ALL, not maxAttempts more per process —
// Kafka has no delivery counter, and the count kept in the process started over at every restart,
// so a consumer restarted often enough retried it for ever. Nothing else is lost.
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Kafka, logLevel } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { KafkaProducer } from '../../src/kafka/index.js';
import { ensureTopics } from '../../src/kafka/topics.js';
import { kafka as kafkaService, unique, until } from '../brokers/services.js';

const svc = await kafkaService();
const brokers = svc.url.replace(/^tcp:\/\//, '').split(',');
const CHILD = fileURLToPath(new URL('./poison-child.ts', import.meta.url));
const MAX_ATTEMPTS = 4;

function start(topic: string, out: string, retryDelayMs: number): { kill: (signal: NodeJS.Signals) => Promise<void>; stderr: () => string } {
  const proc = spawn(process.execPath, ['--import', 'tsx', CHILD, JSON.stringify({ brokers, topic, out, maxAttempts: MAX_ATTEMPTS, handlerMs: 100, retryDelayMs })], { stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  proc.stderr.on('data', (b: Buffer) => (err += b.toString()));
  const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
  return { kill: async (signal) => void (proc.kill(signal), await exited), stderr: () => err };
}

const lines = (out: string): string[] => (existsSync(out) ? readFileSync(out, 'utf8').split('\n').filter((l) => l !== '') : []);

describe.skipIf(!svc.up)('kafka: a poison message across a consumer restart', () => {
  it(`is dead-lettered after ${MAX_ATTEMPTS} attempts in all, its count kept in the committed offset's metadata; every other message processed`, async () => {
    const topic = unique('poison');
    const out = `/tmp/${topic}.out`;
    const kafka = new Kafka({ clientId: 'poison-test', brokers, logLevel: logLevel.NOTHING });
    const admin = kafka.admin();
    await admin.connect();
    const reader = kafka.consumer({ groupId: unique('dead-reader') });
    try {
      await ensureTopics(admin, [{ topic }, { topic: `${topic}.dead` }]);
      const bodies = Array.from({ length: 40 }, (_, i) => (i === 5 ? 'poison' : `m${i}`));
      const p = await KafkaProducer.open({ brokers });
      for (const b of bodies) await p.send(topic, b);
      await p.close();

      const tried = (): string[] => lines(out).filter((l) => l.startsWith('P '));
      // The poison sits at offset 5 of the one partition: its failures are in the group's commit
      // once the metadata says `"5":n`.
      const recorded = async (n: number): Promise<boolean> => {
        const offsets = await admin.fetchOffsets({ groupId: `${topic}-g`, topics: [topic] });
        return offsets[0]?.partitions.some((o) => (o.metadata ?? '').includes(`"5":${n}`)) ?? false;
      };
      // Two consumers killed during the poison's retry delay (a minute: never waited out), each
      // once its failure reached the group's commit, with the other messages' handlers running.
      for (const n of [1, 2]) {
        const c = start(topic, out, 60_000);
        expect(await until(() => tried().length >= n, 120_000), c.stderr()).toBe(true);
        await until(() => recorded(n), 15_000);
        await c.kill('SIGKILL');
      }

      const dead: { value: string; attempts: string }[] = [];
      await reader.connect();
      await reader.subscribe({ topics: [`${topic}.dead`], fromBeginning: true });
      await reader.run({ eachMessage: async ({ message }) => void dead.push({ value: String(message.value), attempts: String(message.headers?.['sluice-attempts']) }) });

      const last = start(topic, out, 200);
      const others = bodies.filter((b) => b !== 'poison');
      const finished = (): boolean => dead.length > 0 && others.every((b) => lines(out).includes(b));
      expect(await until(finished, 180_000), last.stderr()).toBe(true);
      await last.kill('SIGTERM');

      expect(tried()).toEqual(Array.from({ length: MAX_ATTEMPTS }, (_, i) => `P ${i + 1}`));
      expect(dead).toEqual([{ value: 'poison', attempts: String(MAX_ATTEMPTS) }]);
    } finally {
      await reader.disconnect();
      await admin.deleteTopics({ topics: [topic, `${topic}.dead`] }).catch(() => undefined);
      await admin.disconnect();
    }
  });
});
