/** The problems found in a config, each with its key path, line and what was found there (validate-config.ts and its rules). */
import { formatPath } from './config-error.js';
import type { ConfigIssue } from './config-error.js';
import { foundAt } from './schema-errors.js';
import type { ConfigSource } from './yaml-source.js';

export type Path = readonly (string | number)[];

export class Issues {
  readonly list: ConfigIssue[] = [];
  constructor(
    readonly root: unknown,
    readonly source: ConfigSource | undefined,
  ) {}
  add(path: Path, expected: string, found?: string): void {
    this.list.push({ path: formatPath(path), line: this.source?.lineOf(path), expected, found: found ?? foundAt(this.root, path, this.source) });
  }
}

