/**
 * A Lua script sent as a command of its own, straight to the client's `sendCommand`:
 * EVALSHA, and once more as EVAL (which loads it) when the server answers NOSCRIPT (after a
 * SCRIPT FLUSH, a restart, a failover, on a cluster node that never saw it). A Redis user
 * whose ACL allows EVALSHA but not EVAL (`+evalsha +script|load -eval`) is answered NOPERM
 * for that EVAL: the script is then loaded with SCRIPT LOAD (on every master of a cluster)
 * and run by EVALSHA again, and later reloads go straight to SCRIPT LOAD. A user who may run
 * neither gets an error that names both. (ioredis's `defineCommand` sends the first call on
 * every connection as EVAL, and only EVAL on NOSCRIPT: under such an ACL no script ever ran.)
 *
 * This bypasses ioredis's command functions and, with them, its auto-pipelining, which
 * holds every command until `setImmediate` and runs one pipeline per node at a time (ioredis
 * 6, autoPipelining.js): a lone decision then waits a turn of the event loop before it is
 * written, and the next tick's decisions wait for the reply of the one before. The rate
 * store batches its own decisions in the tick they are issued (rate-batch.ts), so the
 * second wait only adds latency; through `sendCommand` a batch is written at once, on any
 * client the user hands in. It also skips the per-call work of `defineCommand`'s wrapper
 * (argument copies, a promise chained per call for the NOSCRIPT retry).
 *
 * The command is written as one Buffer encoded here (ScriptCommand.toWritable), not as
 * ioredis's string: that string is built by `+=` per argument (four cons strings each), then
 * flattened and copied again by the socket — a few hundred bytes of young garbage per
 * decision in a batch of keys, where this allocates one Buffer per call.
 */
import { createHash } from 'node:crypto';
import { Command } from 'ioredis';

interface CommandSink {
  sendCommand(command: Command): unknown;
  readonly options: { readonly keyPrefix?: string };
  /** A Cluster's: its master nodes (where SCRIPT LOAD goes). */
  readonly isCluster?: boolean;
  nodes?(role: 'master'): CommandSink[];
}

/**
 * Whether `err` is Redis refusing `command` ('eval', 'script|load') to this user. Redis 7 names
 * it ("NOPERM User u has no permissions to run the 'script|load' command"); Redis 6 names only a
 * subcommand's command ("NOPERM this user has no permissions to run the 'script' command or its
 * subcommand"), which for SCRIPT is the refusal of the LOAD just sent.
 */
function refused(err: unknown, command: string): boolean {
  if (!(err instanceof Error) || !err.message.startsWith('NOPERM')) return false;
  const m = err.message.toLowerCase();
  const bar = command.indexOf('|');
  return m.includes(`'${command}'`) || (bar > 0 && m.includes(`'${command.slice(0, bar)}' command or its subcommand`));
}

export class ScriptCall {
  readonly sha: string;
  readonly #lua: string;
  readonly #client: CommandSink;
  readonly #options: { replyEncoding?: 'utf8'; keyPrefix?: string };
  readonly #reload: (err: unknown, args: (string | number)[]) => Promise<unknown>;
  /** Redis refused this user EVAL: scripts are loaded with SCRIPT LOAD. */
  #noEval = false;

  /**
   * `client`: an ioredis Redis or Cluster (its keyPrefix, if any, applies as ioredis applies
   * it). `binary`: replies as Buffers (the rate scripts answer bytes), else as strings.
   */
  constructor(client: unknown, lua: string, binary = false) {
    this.#client = client as CommandSink;
    this.#lua = lua;
    this.sha = createHash('sha1').update(lua).digest('hex');
    const prefix = this.#client.options.keyPrefix;
    const enc = binary ? {} : { replyEncoding: 'utf8' as const };
    this.#options = prefix ? { ...enc, keyPrefix: prefix } : enc;
    this.#reload = async (err, args) => {
      if (!(err instanceof Error) || !err.message.startsWith('NOSCRIPT')) throw err;
      if (!this.#noEval) {
        const again = args.slice();
        again[0] = this.#lua;
        try {
          return await this.#run('eval', again);
        } catch (e) {
          if (!refused(e, 'eval')) throw e;
          this.#noEval = true;
        }
      }
      await this.#load();
      return this.#run('evalsha', args);
    };
  }

  /** SCRIPT LOAD on the server (every master of a cluster: the EVALSHA goes to its key's). */
  async #load(): Promise<void> {
    const c = this.#client;
    const targets = c.isCluster === true && c.nodes !== undefined ? c.nodes('master') : [c];
    try {
      await Promise.all(
        targets.map((t) => {
          const cmd = new Command('script', ['load', this.#lua], { replyEncoding: 'utf8' });
          t.sendCommand(cmd);
          return cmd.promise;
        }),
      );
    } catch (e) {
      if (!refused(e, 'script|load')) throw e;
      throw new Error(`NOPERM the Redis user may run neither EVAL nor SCRIPT LOAD, and sluice loads its scripts with one of them (then runs them by EVALSHA): allow +script|load (or +eval) in its ACL — ${(e as Error).message}`, { cause: e });
    }
  }

  #run(name: 'eval' | 'evalsha', args: (string | number)[]): Promise<unknown> {
    const cmd = new ScriptCommand(name, args, this.#options);
    this.#client.sendCommand(cmd);
    return cmd.promise;
  }

  /**
   * Run the script. `args` is the whole command after its name: a slot for the script (any
   * value: it is overwritten), the number of keys, the keys, then ARGV.
   */
  send(args: (string | number)[]): Promise<unknown> {
    args[0] = this.sha;
    const cmd = new ScriptCommand('evalsha', args, this.#options);
    this.#client.sendCommand(cmd);
    return cmd.promise.then(undefined, (err: unknown) => this.#reload(err, args));
  }
}

/** Byte lengths of the arguments being encoded (reused: toWritable runs synchronously). */
let lengths = new Int32Array(64);

/** Decimal digits of a non-negative integer. */
function digits(x: number): number {
  let d = 1;
  while (x >= 10) {
    x = Math.floor(x / 10);
    d++;
  }
  return d;
}

/** Write the decimal digits of non-negative integer `x` (`d` of them) at `at`; returns the offset after. */
function writeInt(buf: Buffer, at: number, x: number, d: number): number {
  for (let i = at + d - 1; i >= at; i--) {
    buf[i] = 48 + (x % 10);
    x = Math.floor(x / 10);
  }
  return at + d;
}

/**
 * An ioredis Command whose wire form (RESP: `*<n>`, then `$<bytes>` and the bytes of the name
 * and of each argument) is encoded straight into one Buffer. ioredis has turned every
 * argument into a string (or a Buffer) and applied any keyPrefix by the time it writes.
 */
export class ScriptCommand extends Command {
  override toWritable(): Buffer {
    const args = this.args as (string | Buffer)[];
    const n = args.length;
    if (lengths.length < n) lengths = new Int32Array(2 * n);
    const nameLen = Buffer.byteLength(this.name);
    let size = 1 + digits(n + 1) + 2 + 1 + digits(nameLen) + 2 + nameLen + 2;
    for (let i = 0; i < n; i++) {
      const a = args[i]!;
      const len = typeof a === 'string' ? Buffer.byteLength(a) : a.length;
      lengths[i] = len;
      size += 1 + digits(len) + 2 + len + 2;
    }
    const buf = Buffer.allocUnsafe(size);
    buf[0] = 42; // *
    let at = writeInt(buf, 1, n + 1, digits(n + 1));
    at = crlf(buf, at);
    buf[at++] = 36; // $
    at = crlf(buf, writeInt(buf, at, nameLen, digits(nameLen)));
    at += buf.write(this.name, at, nameLen, 'utf8');
    at = crlf(buf, at);
    for (let i = 0; i < n; i++) {
      const a = args[i]!;
      const len = lengths[i]!;
      buf[at++] = 36; // $
      at = crlf(buf, writeInt(buf, at, len, digits(len)));
      at += typeof a === 'string' ? buf.write(a, at, len, 'utf8') : a.copy(buf, at);
      at = crlf(buf, at);
    }
    return buf;
  }
}

function crlf(buf: Buffer, at: number): number {
  buf[at] = 13;
  buf[at + 1] = 10;
  return at + 2;
}
