// onRetry and onGiveUp are told what happens; a throw in them does not change it. Before, a
// throwing onRetry ended the call with the hook's error (the attempt that would have
// succeeded never ran), and a throwing onGiveUp replaced the call's last error, which its
// JSDoc promises the call rejects with. Every other sluice hook (gate listeners, onDrop,
// breaker state listeners) is reported as a SLUICE_LISTENER_ERROR warning and passed over.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { RetryPolicy } from '../../src/retry/index.js';

afterEach(() => vi.restoreAllMocks());

describe('RetryPolicy hooks that throw', () => {
  it('onRetry: the next attempt still runs and its value is the answer; the throw is a warning', async () => {
    const warn = vi.spyOn(process, 'emitWarning').mockImplementation(() => undefined);
    const policy = new RetryPolicy({ maxAttempts: 3, baseDelayMs: 0, onRetry: () => { throw new Error('hook broke'); } });
    let calls = 0;
    await expect(policy.execute(() => (++calls === 1 ? Promise.reject(new Error('blip')) : Promise.resolve('ok')))).resolves.toBe('ok');
    expect(calls).toBe(2);
    expect(warn).toHaveBeenCalledWith(expect.stringMatching(/onRetry threw: Error: hook broke/), { code: 'SLUICE_LISTENER_ERROR' });
  });

  it('onGiveUp: the call rejects with its last error, not the hook’s', async () => {
    const warn = vi.spyOn(process, 'emitWarning').mockImplementation(() => undefined);
    const policy = new RetryPolicy({ maxAttempts: 2, baseDelayMs: 0, onGiveUp: () => { throw new Error('hook broke'); } });
    await expect(policy.execute(() => Promise.reject(new Error('down')))).rejects.toThrow('down');
    expect(warn).toHaveBeenCalledWith(expect.stringMatching(/onGiveUp threw: Error: hook broke/), { code: 'SLUICE_LISTENER_ERROR' });
  });
});
