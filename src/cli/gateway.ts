/**
 * `sluice gateway`: the admission-control reverse proxy from flags or a config file.
 * Signals: SIGHUP reloads the config file (so does a change to it); SIGTERM / SIGINT drain
 * (a second one cuts the drain short). Exit codes: 0 after a drain, 2 for a bad config or
 * flags (`--check` validates and exits 0 or 2).
 */
import { lookup } from 'node:dns/promises';
import { lstatSync, watch } from 'node:fs';
import type { FSWatcher } from 'node:fs';
import { basename, dirname, resolve } from 'node:path';
import { GATEWAY_DEFAULTS, GatewayConfigError, JsonLogger, parseConfigText, startGateway } from '../gateway/index.js';
import { readConfigText } from '../gateway/load-config.js';
import type { Gateway, GatewayConfig } from '../gateway/index.js';
import { flagConfig, flagRef, logLevelFlag, parseFlags, UsageError } from './gateway-flags.js';

const USAGE = `Usage: sluice gateway --upstream URL [options]
       sluice gateway --config sluice.yaml [--check]

A reverse proxy that admits every request through sluice's HTTP policy (docs/gateway.md).

From flags (one upstream, one route):
  --upstream URL          http://host:port every request goes to (required)
  --port N                proxy port (default 8080; 0 picks a free one)
  --host H                proxy address (default 0.0.0.0)
  --concurrency N|adaptive  requests in flight at once, fixed or adaptive
  --algorithm A           adaptive algorithm: aimd, vegas, gradient2 (default gradient2)
  --queue N               requests that may wait for a slot (default ${GATEWAY_DEFAULTS.flagQueue} with --queue-timeout, else 0)
  --queue-timeout D       longest wait in the queue (100ms, 2s; every duration needs its unit)
  --rate R                per-client rate (2000/s, 100/min)
  --burst N               per-client burst (default: the rate's count, at least 1: 2000/s → 2000, 100/min → 100)
  --tenant-header H       limit per this header's value (an API key) instead of per client address
  --timeout D             upstream response timeout (default 30s)
  --drain-timeout D       longest drain on SIGTERM (default 30s)
  --trust-proxy LIST      comma-separated proxies whose X-Forwarded-For is believed (loopback, 10.0.0.0/8, ...)
  --workers N|auto        processes serving the port, sharing every limit (default 1; auto: one per core)
  --max-queued N          requests waiting for admission at once, all routes together (default ${GATEWAY_DEFAULTS.server.maxQueued}; more: 503)
  --store URL             keep the limits in Redis (redis://host:port), shared with every gateway given it
  --store-on-error MODE   while Redis cannot answer: local (this gateway's share, default), open, closed (503)
  --admin-port N          admin listener port (default 9901; 0 picks a free one)
  --no-admin              no admin listener

Either form:
  --config F              the config file (YAML; schema: docs/sluice.schema.json)
  --check                 with --config: validate and exit (0 valid, 2 invalid)
  --log-level L           debug, info, warn, error, silent (default info)
`;

/**
 * The admin listener failed EADDRINUSE on the proxy's port, at an address the proxy's host
 * resolves to: the gateway's own proxy took it. `--check` compares hosts as written, without
 * lookups (listen-host.ts); `listen.host: localhost` beside `admin.host: 127.0.0.1` on one port
 * passed it, and the start blamed "another process" for the gateway's own listener (hostile-26).
 */
async function proxyHolds(err: unknown, config: GatewayConfig): Promise<boolean> {
  const e = err as { code?: string; address?: string; port?: number; listener?: string };
  const listenPort = config.listen?.port ?? GATEWAY_DEFAULTS.listen.port;
  if (e.code !== 'EADDRINUSE' || e.listener !== 'admin' || e.address === undefined || listenPort === 0 || e.port !== listenPort) return false;
  const host = config.listen?.host ?? GATEWAY_DEFAULTS.listen.host;
  try {
    return (await lookup(host, { all: true })).some((a) => a.address === e.address || a.address === '0.0.0.0' || a.address === '::');
  } catch {
    return false;
  }
}

/**
 * A listener that could not be opened, as a sentence naming the setting to change (the flag,
 * or the config key); undefined for any other error (hostile-3 H7: `listen EADDRINUSE: address
 * already in use 127.0.0.1:9901` did not say it was the admin listener, nor which setting).
 * Read from the error's fields (`code`, `address`, `port`, `listener`: listenError's, node's
 * own, or a worker's failure as its primary rebuilds it from the worker's `listen`), never its message.
 */
export function listenFailure(err: unknown, config: GatewayConfig, flagForm: boolean, proxyHolds = false): string | undefined {
  if (!(err instanceof Error)) return undefined;
  const e = err as NodeJS.ErrnoException & { address?: string; port?: number; hostname?: string; listener?: 'listen' | 'admin' };
  // Its fields only: a message naming a code and an address (a worker whose store's connect
  // failed: `connect EACCES 10.0.0.5:6379`) is another failure, which read so was told as a
  // listener's (until gwedge).
  const { code, address, port } = e;
  const d = GATEWAY_DEFAULTS;
  const listenPort = config.listen?.port ?? d.listen.port;
  // The gateway says which listener failed (bound-listener.ts); a worker's message does not.
  const admin = e.listener !== undefined ? e.listener === 'admin' : config.admin?.enabled !== false && port !== undefined && port !== 0 && port === (config.admin?.port ?? d.admin.port) && port !== listenPort;
  const name = (key: 'port' | 'host', isAdmin: boolean): string =>
    flagForm ? (isAdmin ? (key === 'port' ? flagRef('admin-port') : 'the admin host (127.0.0.1)') : flagRef(key)) : `${isAdmin ? 'admin' : 'listen'}.${key}`;
  const what = admin ? 'the admin listener' : 'the proxy listener';
  if (code === 'EADDRINUSE' && admin && proxyHolds) {
    const listen = config.listen?.host ?? d.listen.host;
    return `${name('port', admin)}: ${address ?? '?'}:${port ?? '?'} is the proxy listener's own (${flagForm ? '--host' : 'listen.host'} "${listen}" is ${address ?? '?'}, on the same port): the two listeners cannot share it (EADDRINUSE)`;
  }
  if (code === 'EADDRINUSE') return `${name('port', admin)}: ${address ?? '?'}:${port ?? '?'} is in use by another process, so ${what} cannot open it (EADDRINUSE)`;
  if (code === 'EACCES') return `${name('port', admin)}: this process may not listen on ${address ?? '?'}:${port ?? '?'} (EACCES: ports below 1024 need privileges)`;
  if (code === 'EADDRNOTAVAIL') return `${name('host', admin)}: ${address ?? '?'} is not an address of this machine, so ${what} cannot listen on it (EADDRNOTAVAIL)`;
  if (code === 'ENOTFOUND' && e.syscall === 'getaddrinfo') {
    const isAdmin = e.hostname !== undefined && e.hostname === config.admin?.host && e.hostname !== config.listen?.host;
    return `${name('host', isAdmin)}: "${e.hostname ?? '?'}" does not resolve to an address to listen on (ENOTFOUND)`;
  }
  return undefined;
}

async function readConfig(file: string): Promise<{ config: GatewayConfig; text: string }> {
  const text = await readConfigText(file);
  return { config: parseConfigText(text, file), text };
}

export async function gatewayCommand(argv: readonly string[]): Promise<number> {
  let flags: Map<string, string>;
  let config: GatewayConfig;
  /**
   * The text the last reload (or the start) read, whatever came of it (applied or rejected). One
   * edit and one SIGHUP were two reloads of one text: two generations when the watch's reload
   * ran first and the SIGHUP came while it ran, a rejected text counted twice when the SIGHUP's
   * ran first (a rejected text was not remembered, so the watch's ask tried it again).
   */
  let lastTried: string | undefined;
  const file = (() => {
    try {
      flags = parseFlags(argv);
      return flags.get('config');
    } catch (err) {
      if (!(err instanceof UsageError)) throw err;
      // The error, and where the options are: the whole usage after it (40 lines) buried it.
      process.stderr.write(`sluice gateway: ${err.message}\nRun 'sluice gateway --help' for its options.\n`);
      return null;
    }
  })();
  if (file === null) return 2;
  if (flags!.has('help')) {
    process.stdout.write(USAGE);
    return 0;
  }
  try {
    if (file !== undefined) {
      // Named as every other flag's empty value is (it was ': (document): expected a readable file, found ENOENT').
      if (file === '') throw new UsageError('--config: expected the path of a config file, received "" (an empty value: an unset variable?)');
      const extra = [...flags!.keys()].filter((k) => !['config', 'check', 'log-level'].includes(k));
      if (extra.length > 0) throw new UsageError(`--config: expected no other settings with it (put them in the file), received --${extra.join(', --')}`);
      const read = await readConfig(file);
      config = read.config;
      lastTried = read.text;
      const level = logLevelFlag(flags!);
      if (level !== undefined) config = { ...config, log: { ...config.log, level } };
    } else {
      if (flags!.has('check')) throw new UsageError('--check: only with --config');
      config = flagConfig(flags!);
    }
  } catch (err) {
    if (err instanceof UsageError) {
      process.stderr.write(`sluice gateway: ${err.message}\n`);
      return 2;
    }
    if (err instanceof GatewayConfigError) {
      process.stderr.write(`${err.message}\n`);
      return 2;
    }
    throw err;
  }
  if (flags!.has('check')) {
    process.stdout.write(`${file}: ok\n`);
    return 0;
  }
  const logger = new JsonLogger(config.log?.level ?? GATEWAY_DEFAULTS.log.level);
  let gateway: Gateway | undefined;

  let watcher: FSWatcher | undefined;
  let debounce: NodeJS.Timeout | undefined;
  // Reloads run one after another, the first once the gateway has started: a SIGHUP or a
  // file change while it starts (workers forking, listeners binding) is applied after it.
  let startSettled!: () => void;
  const started = new Promise<void>((r) => (startSettled = r));
  let reloading = started;
  // At most one reload waits behind the running one, and asks that come meanwhile join it: it
  // reads the file as it is when it runs, so it applies the newest text for all of them. Before,
  // each SIGHUP queued a reload of its own — 300 sent at once ran 178 reloads of the same file
  // one after another for 2 s after the last (hostile-ops), the loop's time taken from requests.
  let waiting: { why: string; force: boolean } | undefined;
  // A reload runs (from its read of the file to its outcome): an ask that comes meanwhile may
  // ask for the very text it read.
  let running = false;
  // A text the last reload read is not tried again (see `lastTried`): the reload is skipped,
  // said at info for a SIGHUP (an operator waits for a line), at debug for the watch.
  const skipped = (why: string): void => {
    if (why === 'file change') logger.debug('reload skipped: the config file is the text the last reload read', { why });
    else logger.info('reload skipped: the config file is the text the last reload read', { why });
  };
  const reload = (why: string): void => {
    if (file === undefined) {
      logger.warn('reload asked, but there is no config file (flag form)', { why });
      return;
    }
    // A SIGHUP when no reload runs reloads the file even unchanged (docs/gateway.md, Reload); one
    // that comes while a reload runs asks for what that one read, unless the file changed since.
    const force = why === 'SIGHUP' && !running;
    // A file change still in its debounce is read by this reload (it reads after the change).
    if (why !== 'file change') clearTimeout(debounce);
    if (waiting !== undefined) {
      waiting.force ||= force;
      if (why !== 'file change') waiting.why = why;
      return;
    }
    const ask = (waiting = { why, force });
    // The text the last reload read, again: skipped, unless a SIGHUP forces it (a rejection for
    // want of a worker's answer may not be one the next time; an invalid text is rejected again).
    const seen = (text: string): boolean => !ask.force && text === lastTried;
    reloading = reloading.then(async () => {
      waiting = undefined;
      if (gateway === undefined) return;
      running = true;
      // reload() counts its own rejections in /status; one before it (the file unread, not YAML) is counted here.
      let reached = false;
      try {
        let text: string;
        try {
          text = await readConfigText(file);
        } catch (err) {
          // Unreadable (gone, a FIFO...): remembered by its error, so the watch's ask and a SIGHUP's count it once.
          const key = `\0unreadable: ${err instanceof Error ? err.message : String(err)}`;
          if (seen(key)) return skipped(ask.why);
          lastTried = key;
          throw err;
        }
        if (seen(text)) return skipped(ask.why);
        lastTried = text;
        const read = parseConfigText(text, file);
        const level = logLevelFlag(flags);
        const next = level !== undefined ? { ...read, log: { ...read.log, level } } : read;
        reached = true;
        await gateway.reload(next);
        logger.level = next.log?.level ?? GATEWAY_DEFAULTS.log.level;
      } catch (err) {
        if (!reached) gateway.reloadRejected(err);
        logger.error('reload rejected: the previous config keeps serving', { why: ask.why, error: err instanceof Error ? err.message : String(err) });
      } finally {
        running = false;
      }
    });
  };
  if (file !== undefined) {
    // Watch the directory: editors replace a file (rename) rather than write it in place. A
    // config read through a symlink changes with no event for its name: a Kubernetes ConfigMap
    // volume swaps its `..data` link to a new directory, and sluice.yaml -> ..data/sluice.yaml
    // went unreloaded (hostile-11). Then any entry's event reloads; an unchanged text is no change.
    const name = basename(file);
    const throughLink = isSymlink(file);
    try {
      watcher = watch(dirname(resolve(file)), (_event, changed) => {
        if (changed !== null && changed !== name && !throughLink) return;
        clearTimeout(debounce);
        debounce = setTimeout(() => reload('file change'), GATEWAY_DEFAULTS.watchDebounceMs);
      });
    } catch (err) {
      logger.warn('cannot watch the config file; reload with SIGHUP', { error: String(err) });
    }
  }
  // The watcher and the signal handlers are set before the gateway starts: no change after
  // 'listening' goes unseen, and a SIGHUP while it starts (the primary logs 'listening' only
  // after its workers; a signal with no handler ends the process) is a reload, not a death.
  let stopAsked: string | undefined;
  let stop = (signal: string): void => {
    if (stopAsked === undefined) {
      stopAsked = signal;
      logger.info('signal while starting: draining once started', { signal });
      return;
    }
    // A second one while it starts: nothing was admitted yet, so nothing is lost by going now.
    logger.warn('second signal while starting: exiting', { signal });
    process.exit(1);
  };
  const onHup = (): void => reload('SIGHUP');
  const onTerm = (): void => stop('SIGTERM');
  const onInt = (): void => stop('SIGINT');
  process.on('SIGHUP', onHup);
  process.on('SIGTERM', onTerm);
  process.on('SIGINT', onInt);
  const unlisten = (): void => {
    process.off('SIGHUP', onHup);
    process.off('SIGTERM', onTerm);
    process.off('SIGINT', onInt);
  };
  try {
    gateway = await startGateway(config, { logger });
  } catch (err) {
    watcher?.close();
    clearTimeout(debounce);
    unlisten();
    if (err instanceof GatewayConfigError) {
      process.stderr.write(`${err.message}\n`);
      return 2;
    }
    const failed = listenFailure(err, config, file === undefined, await proxyHolds(err, config));
    if (failed !== undefined) {
      process.stderr.write(`sluice gateway: ${failed}\n`);
      return 2;
    }
    throw err;
  }
  const gw = gateway;
  startSettled();

  return new Promise<number>((done) => {
    let stopping = false;
    stop = (signal: string): void => {
      if (stopping) {
        logger.warn('second signal: cutting the drain short', { signal });
        void gw.close();
        return;
      }
      stopping = true;
      logger.info('signal: draining', { signal });
      watcher?.close();
      clearTimeout(debounce);
      gw.drain().then(
        () => {
          unlisten();
          done(0);
        },
        (err: unknown) => {
          logger.error('drain failed', { error: String(err) });
          done(1);
        },
      );
    };
    // A SIGTERM or SIGINT that came while the gateway started drains it now.
    if (stopAsked !== undefined) stop(stopAsked);
  });
}

/** Whether `path` is a symlink (false when it cannot be read: the config's read says why). */
function isSymlink(path: string): boolean {
  try {
    return lstatSync(path).isSymbolicLink();
  } catch {
    return false;
  }
}
