/** `sluice/express`: HTTP admission control as Express middleware (express is an optional peer). */
export { admission } from './middleware.js';
export type { ExpressAdmissionOptions } from './middleware.js';
export { HttpAdmission } from '../http/admission.js';
export type { HttpAdmissionOptions, RouteAdmission } from '../http/options.js';
