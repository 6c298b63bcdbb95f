import { breakerSuite } from './breaker.js';
import { channelSuite } from './channel.js';
import { concurrencySuite } from './concurrency.js';
import { rateSuite } from './rate.js';
import { retrySuite } from './retry.js';
import { streamsSuite } from './streams.js';
import type { Suite } from '../lib/suite.js';

/** In the order they run. */
export const allSuites: readonly Suite[] = [concurrencySuite, rateSuite, channelSuite, breakerSuite, retrySuite, streamsSuite];
