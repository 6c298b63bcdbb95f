/**
 * `sluice/http`: HTTP admission control — the policy every adapter translates (tenant,
 * criticality, cost, rate limits, concurrency, shedding), the standard headers, and the
 * node:http adapter. Express and Fastify adapters: `sluice/express`, `sluice/fastify`.
 */
export { HttpAdmission } from './admission.js';
export { HttpPermit } from './http-permit.js';
export type { Abandoned, Admitted, Exempt, HttpDecision, HttpResponseLike, LaterAsk, Refused } from './decision.js';
export { HTTP_DEFAULTS, defaultClassify, resolveRoute } from './options.js';
export type { ConcurrencyOption, HttpAdmissionOptions, RateLimitOption, RouteAdmission } from './options.js';
export { withAdmission } from './node-handler.js';
export type { NodeAdmissionOptions, NodeHandler } from './node-handler.js';
export { deltaSeconds, HEADER_STYLES, limitItem, MAX_DELTA_SECONDS, policyItem, rateLimitHeaders, retryAfterSeconds, sfString } from './ratelimit-headers.js';
export type { HeaderPair, HeaderStyle } from './ratelimit-headers.js';
export { PROBLEM_CONTENT_TYPE, PROBLEM_TYPES, problem, statusOf } from './problem.js';
export type { Problem, RefusalStatus } from './problem.js';
export { clientAddress, clientKey } from './client-ip.js';
export type { ClientIpConfig, HttpRequestLike } from './client-ip.js';
export { addressKey, parseIp, parseNode } from './ip.js';
export type { ParsedIp } from './ip.js';
export { clientFromHeader, forwardedFor, PROXY_HEADERS } from './forwarded.js';
export type { ProxyHeader } from './forwarded.js';
export { isTrusted, trustCheck } from './trusted-proxies.js';
export type { ProxyPreset, TrustCheck, TrustProxyOption } from './trusted-proxies.js';
export { MAX_KEY_LENGTH } from './tenant.js';
export type { TenantOption } from './tenant.js';
export type { CriticalityOption } from './criticality.js';
export { pathOf, setHeaders, writeRefusal } from './write.js';
