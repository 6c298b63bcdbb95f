/**
 * Which requests a route takes: a path prefix on segment boundaries, and the methods it
 * names. Routes are tried in order and the first match wins, so a route whose every request
 * an earlier route takes is never reached — `- { path: / }` before `- { path: /api, policy: api }`
 * sent /api to the catch-all without a word, the api policy limiting nothing.
 */
import { caseFolded } from './canonical-case.js';
import type { ResolvedRoute } from './resolved-config.js';

/** A path under a route's prefix: /api takes /api and /api/x, not /apix; / takes everything. */
export function underPrefix(path: string, prefix: string): boolean {
  return prefix === '/' || path === prefix || (path.startsWith(prefix) && path.charCodeAt(prefix.length) === 47 /* '/' */);
}

type Reach = Pick<ResolvedRoute, 'path' | 'lowerPath' | 'methods'>;

/** Whether `earlier` takes every request `later` would: its methods cover `later`'s and its prefix every path `later` matches. */
export function takesEvery(earlier: Reach, later: Reach): boolean {
  if (earlier.methods !== undefined) {
    // A route for GET takes HEAD too (route-table.ts).
    if (later.methods === undefined) return false;
    for (const m of later.methods) if (!earlier.methods.has(m) && !(m === 'HEAD' && earlier.methods.has('GET'))) return false;
  }
  // A case-insensitive later route takes /API/x, which a case-sensitive earlier one does not.
  if (earlier.lowerPath === undefined) return later.lowerPath === undefined && underPrefix(later.path, earlier.path);
  return underPrefix(later.lowerPath ?? caseFolded(later.path), earlier.lowerPath);
}
