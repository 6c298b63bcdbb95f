// Heap measurements for tests that hold hostile keys: the heap in use after full collections,
// and distinct 1 MB keys as flat strings (what a store would hold of them).
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

export const MB = 1024 * 1024;

/** Heap in use after two full collections. */
export function heapAfterGc(): number {
  gc();
  gc();
  return process.memoryUsage().heapUsed;
}

/** A distinct 1 MB key, flattened (a Map would flatten it anyway): its size is what a store would hold. */
export function hugeKey(i: number): string {
  return JSON.parse(JSON.stringify(`key:${i}:${'x'.repeat(MB)}`)) as string;
}
