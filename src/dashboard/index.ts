/** `sluice/dashboard`: a live page over any set of gates (Server-Sent Events, uPlot charts). */
export { Dashboard, createDashboard, DASHBOARD_DEFAULTS } from './dashboard.js';
export type { DashboardOptions, DashboardSample } from './dashboard.js';
export { mergeGroupSamples } from './merge-samples.js';
export type { DashboardGate, DashboardGroup, GroupSample } from './group-sampler.js';
