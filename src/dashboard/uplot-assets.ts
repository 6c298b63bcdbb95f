/**
 * uPlot, the chart library of the dashboard and the simulation report, read from the
 * installed package (an optional peer dependency: `npm install uplot`). Nothing is fetched
 * from a CDN: the page is served, or the report written, with the library inline or from
 * this process. Read once, then kept.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';

export interface UplotAssets {
  readonly js: string;
  readonly css: string;
  readonly version: string;
}

let cached: UplotAssets | null | undefined;

/** uPlot's browser build and stylesheet; undefined when the package is not installed. */
export function uplotAssets(): UplotAssets | undefined {
  if (cached !== undefined) return cached ?? undefined;
  try {
    const require = createRequire(import.meta.url);
    const pkg = require.resolve('uplot/package.json');
    const dir = pkg.slice(0, -'package.json'.length);
    cached = {
      js: readFileSync(`${dir}dist/uPlot.iife.min.js`, 'utf8'),
      css: readFileSync(`${dir}dist/uPlot.min.css`, 'utf8'),
      version: (JSON.parse(readFileSync(pkg, 'utf8')) as { version: string }).version,
    };
  } catch {
    cached = null;
  }
  return cached ?? undefined;
}

export const UPLOT_MISSING = 'charts need uPlot: npm install uplot (an optional peer dependency of sluice)';

/** Text safe inside a <script> element (no `</script>`, no `<!--`). */
export function inlineScript(text: string): string {
  return text.replace(/<(\/script|!--)/gi, '\\x3c$1');
}

/** JSON safe inside a <script> element. */
export function inlineJson(value: unknown): string {
  return JSON.stringify(value).replace(/</g, '\\u003c').replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029');
}
