/**
 * The child's half of the protocol in ipc.ts: announce readiness, answer window requests,
 * and stop everything when told (SIGTERM, SIGINT) or when the parent goes away (the IPC
 * channel closes), so that no server outlives the run that started it.
 */
import type { ChildMessage, Request } from './ipc.js';
import { ProcessMeter } from './process-meter.js';
import type { DemoUpstream } from './upstream.js';

export interface ChildParts {
  readonly upstream?: DemoUpstream;
  /** Stops what the process started (servers, gateway); called once. */
  readonly close: () => Promise<void>;
}

function send(message: ChildMessage): void {
  process.send?.(message);
}

/** Run `start` in a forked child; report failures to the parent and exit 1. */
export async function runChild(start: () => Promise<{ parts: ChildParts; url: string; adminUrl?: string }>): Promise<void> {
  if (process.send === undefined) throw new Error('this file runs as a child process (fork), with an IPC channel');
  let parts: ChildParts;
  let ready: { url: string; adminUrl?: string };
  try {
    const started = await start();
    parts = started.parts;
    ready = started;
  } catch (err) {
    send({ type: 'failed', message: err instanceof Error ? err.message : String(err) });
    process.exit(1);
  }
  const meter = new ProcessMeter(1000);
  let stopping = false;
  const stop = (): void => {
    if (stopping) return;
    stopping = true;
    meter.stop();
    const force = setTimeout(() => process.exit(0), 2000);
    force.unref();
    void parts.close().finally(() => process.exit(0));
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  process.on('disconnect', stop);
  process.on('message', (m: Request) => {
    if (m.type === 'open') {
      parts.upstream?.resetWindow();
      meter.start();
      send({ type: 'reply', id: m.id });
    } else if (m.type === 'close') {
      const upstream = parts.upstream?.window();
      send({ type: 'reply', id: m.id, process: meter.read(), ...(upstream === undefined ? {} : { upstream }) });
    } else {
      const u = parts.upstream;
      send({ type: 'reply', id: m.id, backlog: u === undefined ? 0 : u.queued() + u.inService() });
    }
  });
  send({
    type: 'ready',
    url: ready.url,
    ...(parts.upstream === undefined ? {} : { upstreamUrl: parts.upstream.url }),
    ...(ready.adminUrl === undefined ? {} : { adminUrl: ready.adminUrl }),
  });
}
