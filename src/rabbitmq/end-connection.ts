/**
 * Ends an amqplib connection at once, without the close handshake its close() waits for (a
 * broker that answers nothing never sends CloseOk): the socket is destroyed with `reason`, which
 * amqplib reads as the connection lost — its channels close, and what waited on them fails.
 */
import type { ChannelModel } from 'amqplib';
import { closeWithin } from '../brokers/bounded-close.js';

export function endConnection(conn: ChannelModel, reason: string): void {
  (conn as unknown as { connection: { stream: { destroy(err: Error): void } } }).connection.stream.destroy(new Error(reason));
}

/** `steps` (a cancel, confirms awaited), then the connection's close handshake; past `ms`, the socket ended. Never rejects. */
export function closeAmqp(conn: ChannelModel, name: string, ms: number, steps: () => Promise<void>): Promise<void> {
  return closeWithin(
    async () => {
      await steps();
      await conn.close();
    },
    () => endConnection(conn, `${name}: closed, the broker did not answer within ${ms} ms`),
    ms,
  );
}
