/**
 * `sluice/http`: HTTP admission control — the policy every adapter translates (tenant,
 * criticality, cost, rate limits, concurrency, shedding), the standard headers, and the
 * node:http adapter. Express and Fastify adapters: `sluice/express`, `sluice/fastify`.
 */
export { HttpAdmission } from './admission.js';
export { HttpPermit } from './http-permit.js';
export type { Abandoned, Admitted, Exempt, HttpDecision, HttpResponseLike, LaterAsk, Refused } from './decision.js';
export { HTTP_DEFAULTS, resolveRoute } from './options.js';
export type { ConcurrencyOption, HttpAdmissionOptions, RateLimitOption, RouteAdmission } from './options.js';
export { withAdmission } from './node-handler.js';
export type { NodeAdmissionOptions, NodeHandler } from './node-handler.js';
export { HEADER_STYLES, MAX_DELTA_SECONDS } from './ratelimit-headers.js';
export type { HeaderPair, HeaderStyle } from './ratelimit-headers.js';
export { PROBLEM_CONTENT_TYPE, PROBLEM_TYPES } from './problem.js';
export type { Problem, RefusalStatus } from './problem.js';
export type { ClientIpConfig, HttpRequestLike } from './client-ip.js';
export type { ParsedIp } from './ip.js';
export { PROXY_HEADERS } from './forwarded.js';
export type { ProxyHeader } from './forwarded.js';
export type { ProxyPreset, TrustCheck, TrustProxyOption } from './trusted-proxies.js';
export { MAX_KEY_LENGTH } from './tenant.js';
export type { TenantOption } from './tenant.js';
export type { CriticalityOption } from './criticality.js';
// The helpers, each checking its arguments (the adapters call the unchecked ones in their modules).
export {
  addressKey,
  clientAddress,
  clientFromHeader,
  clientKey,
  defaultClassify,
  deltaSeconds,
  forwardedFor,
  isTrusted,
  limitItem,
  parseIp,
  parseNode,
  pathOf,
  policyItem,
  problem,
  rateLimitHeaders,
  retryAfterSeconds,
  setHeaders,
  sfString,
  statusOf,
  trustCheck,
  writeRefusal,
} from './public-helpers.js';
