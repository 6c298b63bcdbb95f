/**
 * The sluice gateway: an admission-control reverse proxy (`sluice gateway`). Applications
 * layer: imports sluice/http for admission; yaml, ajv and undici (optional peers) are loaded
 * when first needed (peers.ts).
 */
export { startGateway } from './gateway.js';
export type { Gateway, GatewayOptions } from './gateway.js';
export type {
  AdminConfig,
  AlgorithmName,
  BreakerConfig,
  ConcurrencyConfig,
  CriticalityName,
  DrainConfig,
  FaultConfig,
  GatewayConfig,
  ListenConfig,
  LogConfig,
  LogLevel,
  PolicyConfig,
  PolicyMode,
  RateLimitConfig,
  RateOverride,
  RouteConfig,
  ServerConfig,
  ShedConfig,
  UpstreamConfig,
} from './config-types.js';
export type { Duration, DurationUnit, Rate, Size } from './units.js';
export type { GatewayStatus, PolicyStatus, RouteStatus } from './status.js';
export type { SharedLimitStore, SlotGrant, TokenGrant } from '../shared/index.js';
export { GATEWAY_DEFAULTS } from './defaults.js';
export { CONFIG_SCHEMA } from './schema.js';
export { GatewayConfigError } from './config-error.js';
export type { ConfigIssue } from './config-error.js';
export { loadConfigFile, parseConfigText } from './load-config.js';
export { quickConfig } from './quick-config.js';
export type { QuickOptions } from './quick-config.js';
export { GATEWAY_INSTALL, GATEWAY_PEERS } from './peers.js';
export { MissingDependencyError } from '../core/errors.js';
export { JsonLogger, LOG_LEVELS } from './logger.js';
export type { LogFields, Logger, PinoLikeLogger } from './logger.js';
