/** What users of gates and channels need from the disciplines: their option types and defaults. */
export { CODEL_DEFAULTS } from './codel.js';
export type { CodelOptions } from './codel.js';
export { PRIORITY_DEFAULTS } from './priority.js';
export type { PriorityOptions } from './priority.js';
export { DISCIPLINE_NAMES } from './create.js';
export type { DisciplineName, DisciplineOption } from './create.js';
