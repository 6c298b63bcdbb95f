/** Choosing a discipline by option: a name, or a name with its parameters. */
import { InvalidOptionError } from '../core/errors.js';
import { optNumber, optOneOf } from '../core/options.js';
import { optKnownKeys } from '../core/option-keys.js';
import { CodelDiscipline, CODEL_DEFAULTS } from './codel.js';
import type { CodelOptions } from './codel.js';
import type { Discipline } from './entry.js';
import { FifoDiscipline, LifoDiscipline } from './linked.js';
import { PriorityDiscipline, PRIORITY_DEFAULTS } from './priority.js';
import type { PriorityOptions } from './priority.js';
import { deepFreeze } from '../core/deep-freeze.js';

export type DisciplineName = 'fifo' | 'lifo' | 'codel' | 'priority';

export type DisciplineOption =
  | DisciplineName
  | { readonly type: 'fifo' }
  | { readonly type: 'lifo' }
  | ({ readonly type: 'codel' } & CodelOptions)
  | ({ readonly type: 'priority' } & PriorityOptions);

export const DISCIPLINE_NAMES: readonly DisciplineName[] = deepFreeze(['fifo', 'lifo', 'codel', 'priority']);

/** The keys each discipline's object takes. */
const DISCIPLINE_KEYS: Readonly<Record<DisciplineName, readonly string[]>> = {
  fifo: ['type'],
  lifo: ['type'],
  codel: ['type', 'targetMs', 'intervalMs'],
  priority: ['type', 'agingMs'],
};

/** Validate once at construction; returns a factory (partitioned gates need one queue each). */
export function disciplineFactory<T>(option: DisciplineOption | undefined, optionName: string): () => Discipline<T> {
  const o = option ?? 'fifo';
  if (typeof o !== 'string' && (typeof o !== 'object' || Array.isArray(o))) {
    throw new InvalidOptionError(optionName, `a discipline: one of ${DISCIPLINE_NAMES.map((n) => JSON.stringify(n)).join(', ')}, or an object { type, … }`, o);
  }
  const type = optOneOf(`${optionName}${typeof o === 'string' ? '' : '.type'}`, typeof o === 'string' ? o : o.type, DISCIPLINE_NAMES);
  // A parameter of another discipline, or a misspelt one (`tagetMs`), was ignored and its default used.
  if (typeof o !== 'string') optKnownKeys(`${type} discipline`, o, DISCIPLINE_KEYS[type], `${optionName}.`);
  switch (type) {
    case 'fifo':
      return () => new FifoDiscipline<T>();
    case 'lifo':
      return () => new LifoDiscipline<T>();
    case 'codel': {
      const c = typeof o === 'string' ? {} : (o as CodelOptions);
      const target = optNumber(`${optionName}.targetMs`, c.targetMs ?? CODEL_DEFAULTS.targetMs, 0);
      const interval = optNumber(`${optionName}.intervalMs`, c.intervalMs ?? CODEL_DEFAULTS.intervalMs, Number.MIN_VALUE);
      return () => new CodelDiscipline<T>(target, interval);
    }
    case 'priority': {
      const p = typeof o === 'string' ? {} : (o as PriorityOptions);
      const aging = optNumber(`${optionName}.agingMs`, p.agingMs ?? PRIORITY_DEFAULTS.agingMs, Number.MIN_VALUE);
      return () => new PriorityDiscipline<T>(aging);
    }
  }
}
