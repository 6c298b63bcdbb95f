/**
 * The gateway's `/dashboard`: one group per policy in force (asked at every sample, so a
 * reload shows at once), with its rollout mode, what it would have refused in shadow mode,
 * and the faults injected on its routes.
 */
import { Dashboard } from '../dashboard/dashboard.js';
import type { DashboardGroup } from '../dashboard/group-sampler.js';
import { ADMIN_DASHBOARD_PAGES } from './admin-connections.js';
import type { HandlerState } from './request-handler.js';

export function gatewayDashboard(state: HandlerState, tenantKeys: 'hash' | 'raw' = 'hash'): Dashboard {
  return new Dashboard({
    title: 'sluice gateway',
    maxSubscribers: ADMIN_DASHBOARD_PAGES,
    // API keys are shown hashed unless admin.tenantKeys is 'raw' (a worker's samples reach its primary so).
    tenantKeys,
    groups: function* (): Generator<DashboardGroup> {
      const table = state.table;
      for (const p of table.policies.values()) {
        const routes = table.routes.filter((r) => r.policy === p);
        yield {
          name: p.name,
          gates: p.gates(),
          monitor: p.monitor,
          shadowRefusals: () => p.rollout.shadowRefusals,
          shadow: p.rollout.shadow,
          info: () => {
            const info: Record<string, string | number> = { routes: routes.map((r) => r.config.name).join(', ') };
            if (p.rollout.mode !== 'enforce') info['mode'] = p.rollout.mode;
            if (p.rollout.mode === 'canary') info['canary %'] = p.rollout.percent;
            for (const r of routes) {
              const f = r.fault?.snapshot();
              if (f === undefined) continue;
              const parts = [f.delayMs !== undefined ? `delay ${f.delayMs} ms × ${f.delayPercent}% (${f.delayed})` : '', f.abortStatus !== undefined ? `abort ${f.abortStatus} × ${f.abortPercent}% (${f.aborted})` : ''];
              info[`fault ${r.config.name}`] = parts.filter((x) => x !== '').join(', ');
            }
            return info;
          },
        };
      }
    },
  });
}
