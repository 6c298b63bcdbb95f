/** The gateway's own answers (404, 413, 502, 504, 400): problem+json, as sluice/http writes refusals. */
import type { ServerResponse } from 'node:http';
import { PROBLEM_CONTENT_TYPE } from '../http/problem.js';
import { STATUS_CODES } from 'node:http';

export function writeProblem(res: ServerResponse, status: number, detail: string, headers: Readonly<Record<string, string>> = {}): void {
  if (res.headersSent) return;
  const body = JSON.stringify({ type: 'about:blank', title: STATUS_CODES[status] ?? 'Error', status, detail });
  res.statusCode = status;
  for (const [k, v] of Object.entries(headers)) res.setHeader(k, v);
  res.setHeader('Content-Type', PROBLEM_CONTENT_TYPE);
  res.setHeader('Content-Length', Buffer.byteLength(body));
  res.end(body);
}
