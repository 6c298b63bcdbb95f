/**
 * A Lua script sent as a command of its own, straight to the client's `sendCommand`:
 * EVALSHA, and once more as EVAL (which loads it) when the server answers NOSCRIPT (after a
 * SCRIPT FLUSH, a restart, a failover, on a cluster node that never saw it).
 *
 * This bypasses ioredis's command functions and, with them, its auto-pipelining, which
 * holds every command until `setImmediate` and runs one pipeline per node at a time (ioredis
 * 6, autoPipelining.js): a lone decision then waits a turn of the event loop before it is
 * written, and the next tick's decisions wait for the reply of the one before. The rate
 * store batches its own decisions in the tick they are issued (rate-batch.ts), so the
 * second wait only adds latency; through `sendCommand` a batch is written at once, on any
 * client the user hands in. It also skips the per-call work of `defineCommand`'s wrapper
 * (argument copies, a promise chained per call for the NOSCRIPT retry).
 */
import { createHash } from 'node:crypto';
import { Command } from 'ioredis';

interface CommandSink {
  sendCommand(command: Command): unknown;
  readonly options: { readonly keyPrefix?: string };
}

export class ScriptCall {
  readonly sha: string;
  readonly #lua: string;
  readonly #client: CommandSink;
  readonly #options: { replyEncoding: 'utf8'; keyPrefix?: string };
  readonly #reload: (err: unknown, args: (string | number)[]) => Promise<unknown>;

  /** `client`: an ioredis Redis or Cluster (its keyPrefix, if any, applies as ioredis applies it). */
  constructor(client: unknown, lua: string) {
    this.#client = client as CommandSink;
    this.#lua = lua;
    this.sha = createHash('sha1').update(lua).digest('hex');
    const prefix = this.#client.options.keyPrefix;
    this.#options = prefix ? { replyEncoding: 'utf8', keyPrefix: prefix } : { replyEncoding: 'utf8' };
    this.#reload = (err, args) => {
      if (!(err instanceof Error) || !err.message.startsWith('NOSCRIPT')) throw err;
      const again = args.slice();
      again[0] = this.#lua;
      const cmd = new Command('eval', again, this.#options);
      this.#client.sendCommand(cmd);
      return cmd.promise;
    };
  }

  /**
   * Run the script. `args` is the whole command after its name: a slot for the script (any
   * value: it is overwritten), the number of keys, the keys, then ARGV.
   */
  send(args: (string | number)[]): Promise<unknown> {
    args[0] = this.sha;
    const cmd = new Command('evalsha', args, this.#options);
    this.#client.sendCommand(cmd);
    return cmd.promise.then(undefined, (err: unknown) => this.#reload(err, args));
  }
}
