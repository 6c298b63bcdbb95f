/** `sluice/fastify`: HTTP admission control as an encapsulation-aware Fastify plugin (fastify is an optional peer). */
export { admissionPlugin } from './plugin.js';
export type { FastifyAdmissionOptions, FastifyRouteConfig } from './plugin.js';
export { HttpAdmission } from '../http/admission.js';
export type { HttpAdmissionOptions, RouteAdmission } from '../http/options.js';
