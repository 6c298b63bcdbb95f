// A Prometheus text exposition read back: each family's TYPE and HELP and its samples, and the
// checks that a family's type fits what its samples did between two scrapes at rest.
import { spawnSync } from 'node:child_process';

export interface Family {
  readonly type: string;
  readonly help: string;
  /** `name{labels}` -> value, the family's own name or its `_bucket`/`_count`/`_sum`. */
  readonly samples: Map<string, number>;
}

export function families(text: string): Map<string, Family> {
  const out = new Map<string, Family>();
  const family = (name: string): Family => {
    let f = out.get(name);
    if (f === undefined) out.set(name, (f = { type: 'untyped', help: '', samples: new Map() }));
    return f;
  };
  for (const line of text.split('\n')) {
    const meta = /^# (HELP|TYPE) (\S+) ?(.*)$/.exec(line);
    if (meta !== null) {
      const f = family(meta[2]!);
      out.set(meta[2]!, meta[1] === 'TYPE' ? { ...f, type: meta[3]! } : { ...f, help: meta[3]! });
      continue;
    }
    if (line === '' || line.startsWith('#')) continue;
    const series = line.slice(0, line.lastIndexOf(' '));
    const name = series.split('{')[0]!;
    const own = out.has(name) ? name : name.replace(/_(bucket|count|sum)$/, '');
    family(own).samples.set(series, Number(line.slice(line.lastIndexOf(' ') + 1)));
  }
  return out;
}

/**
 * Families whose type does not fit what they did: between `before` and `after`, two scrapes with
 * the process at rest (nothing in flight, nothing waiting, windows past), a level is back where
 * it was and a running total is higher. So a series higher at rest than before is a total, and
 * its family must be a counter (or a histogram's count). Counters are named `*_total` and
 * `*_total` families are counters. Families whose HELP says `Deprecated` are left out: old
 * names kept for a while beside their counters. `only`: the families to judge (by name).
 */
export function typeMisfits(before: string, after: string, only: (name: string) => boolean = () => true): string[] {
  const was = families(before);
  const out: string[] = [];
  for (const [name, f] of families(after)) {
    if (!only(name)) continue;
    if (f.type === 'counter' && !name.endsWith('_total')) out.push(`${name}: a counter not named *_total`);
    if (f.type !== 'counter' && name.endsWith('_total')) out.push(`${name}: named *_total but TYPE ${f.type}`);
    if (f.type === 'counter' || f.type === 'histogram' || f.help.startsWith('Deprecated')) continue;
    for (const [series, v] of f.samples) {
      const prior = was.get(name)?.samples.get(series) ?? 0;
      if (v > prior) out.push(`${name}: TYPE ${f.type}, but ${series} rose ${prior} -> ${v} and stays there at rest (a running total)`);
    }
  }
  return out;
}

/** promtool, when installed: null when it is not (the caller skips, saying so). */
export function promtoolPath(): string | null {
  const r = spawnSync('promtool', ['--version'], { encoding: 'utf8' });
  return r.error === undefined && r.status === 0 ? 'promtool' : null;
}

/** `promtool check metrics` on `text`: its exit status and what it printed (lint problems). */
export function promtoolCheck(text: string): { status: number | null; output: string } {
  const r = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' });
  return { status: r.status, output: `${r.stdout}${r.stderr}`.trim() };
}
