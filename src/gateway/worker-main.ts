/** Entry of a gateway worker process: node:cluster forks this file (see primary.ts). */
import { runWorker } from './worker.js';

runWorker();
