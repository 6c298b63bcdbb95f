export { Entry } from './entry.js';
export type { Discipline, EvictFn } from './entry.js';
export { FifoDiscipline, LifoDiscipline } from './linked.js';
export { CodelDiscipline, CODEL_DEFAULTS } from './codel.js';
export type { CodelOptions } from './codel.js';
export { PriorityDiscipline, PRIORITY_DEFAULTS } from './priority.js';
export type { PriorityOptions } from './priority.js';
export { disciplineFactory, DISCIPLINE_NAMES } from './create.js';
export type { DisciplineName, DisciplineOption } from './create.js';
