/**
 * How a policy is rolled out. 'enforce' refuses. 'shadow' decides every request and counts
 * what it would have refused, by reason, but the request goes on at once whatever the
 * decision (a decision that would wait is not waited for; an admitted request still holds
 * its permit, so in-flight and limits are measured as if enforced). 'canary' enforces for a
 * stable share of tenants — FNV-1a of the tenant key, mod 10 000, below `percent` × 100 —
 * and leaves every other tenant's requests alone, so one tenant is always on the same side.
 */
import type { RejectionReason } from '../core/types.js';
import type { PolicyConfig, PolicyMode } from './config-types.js';

/** FNV-1a, 32 bits: a stable, well-spread hash of a short key. */
export function fnv1a(key: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) {
    h ^= key.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** Whether a tenant falls in a canary of `percent` (0, 100]: the same answer for the same key, always. */
export function inCanary(tenant: string, percent: number): boolean {
  return fnv1a(tenant) % 10_000 < Math.round(percent * 100);
}

export class PolicyRollout {
  readonly mode: PolicyMode;
  /** Canary share, percent; 100 unless mode is canary. */
  readonly percent: number;
  /** Would-have-refused by reason (shadow mode). */
  readonly shadowRefusals = new Map<RejectionReason, number>();
  /** Requests the canary left alone (tenants outside it). */
  bypassed = 0;

  constructor(p: PolicyConfig) {
    this.mode = p.mode ?? 'enforce';
    this.percent = this.mode === 'canary' ? (p.canaryPercent ?? 100) : 100;
  }

  /** Whether the policy applies to this tenant's request (false only outside a canary). */
  applies(tenant: () => string): boolean {
    if (this.mode !== 'canary' || this.percent >= 100) return true;
    if (inCanary(tenant(), this.percent)) return true;
    this.bypassed++;
    return false;
  }

  get shadow(): boolean {
    return this.mode === 'shadow';
  }

  /** Count a refusal the shadow policy decided and did not give. */
  wouldRefuse(reason: RejectionReason): void {
    this.shadowRefusals.set(reason, (this.shadowRefusals.get(reason) ?? 0) + 1);
  }

  /** Plain data for /status and the dashboard. */
  snapshot(): { mode: PolicyMode; percent: number; shadowRefusals: Record<string, number>; bypassed: number } {
    return { mode: this.mode, percent: this.percent, shadowRefusals: Object.fromEntries(this.shadowRefusals), bypassed: this.bypassed };
  }
}

/** Config rules a schema cannot state: canaryPercent only with, and always with, mode canary. */
export function rolloutIssues(p: PolicyConfig): { key: 'mode' | 'canaryPercent'; expected: string; found: string }[] {
  if (p.mode === 'canary' && p.canaryPercent === undefined) return [{ key: 'mode', expected: 'a canaryPercent with mode canary', found: 'none' }];
  if (p.mode !== 'canary' && p.canaryPercent !== undefined) return [{ key: 'canaryPercent', expected: 'no canaryPercent without mode: canary', found: String(p.canaryPercent) }];
  // Tenants fall in 10 000 buckets (inCanary): a share between two steps was rounded without a
  // word — 0.004 to 0, a canary that enforced for no tenant while /status said 0.004%; 0.005 to 0.01.
  if (typeof p.canaryPercent === 'number' && Math.abs(p.canaryPercent * 100 - Math.round(p.canaryPercent * 100)) > 1e-6) {
    return [{ key: 'canaryPercent', expected: 'a percentage in steps of 0.01 (tenants are split into 10 000 buckets by the hash of their key)', found: String(p.canaryPercent) }];
  }
  return [];
}
