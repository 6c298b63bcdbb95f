// rabbitmqctl for the tests that make the server do something to its clients (close their
// connections), each on a vhost of its own so no other client of the broker is touched.
import { spawnSync } from 'node:child_process';
import type { Service } from '../brokers/services.js';

/** rabbitmqctl, if it can manage the broker from here. */
export function ctl(...args: string[]): boolean {
  return spawnSync('rabbitmqctl', args, { stdio: 'ignore', timeout: 30_000 }).status === 0;
}

/** Whether rabbitmqctl manages the RabbitMQ of `svc` (with CI=true its absence fails; otherwise one loud line says what `what` skips). */
export function haveCtl(svc: Service, what: string): boolean {
  if (!svc.up) return false;
  if (ctl('list_vhosts')) return true;
  const line = 'rabbitmqctl cannot manage the RabbitMQ on AMQP_URL (install rabbitmq-server here, run as its admin)';
  if (process.env.CI === 'true') throw new Error(`CI=true and ${line}`);
  console.warn(`\n!!! SKIPPING ${what} — ${line}\n`);
  return false;
}

/** The URL of `vhost` on the broker of `svc`, created (with all permissions for its user) if need be. */
export function vhostUrl(svc: Service, vhost: string): string {
  const base = new URL(svc.url);
  ctl('add_vhost', vhost); // fails harmlessly when it exists
  if (!ctl('set_permissions', '-p', vhost, base.username || 'guest', '.*', '.*', '.*')) throw new Error(`rabbitmqctl set_permissions on ${vhost} failed`);
  return `${base.protocol}//${base.username}:${base.password}@${base.host}/${vhost}`;
}
