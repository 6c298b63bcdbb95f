// Test doubles for the Reactive Streams rule tests (rules-*.test.ts).
import type { Publisher, Subscription } from '../../src/streams/index.js';

/** Wrap a publisher, recording the subscriber's calls on its subscription and the items it gets (runs of items as one 'next'). */
export function spyRequests<T>(inner: Publisher<T>): { pub: Publisher<T>; calls: string[] } {
  const calls: string[] = [];
  const pub: Publisher<T> = {
    subscribe: (sub) =>
      inner.subscribe({
        onSubscribe: (s) =>
          sub.onSubscribe({
            request: (n) => (calls.push(`request ${n}`), s.request(n)),
            cancel: () => (calls.push('cancel'), s.cancel()),
          }),
        onNext: (x) => {
          if (calls.at(-1) !== 'next') calls.push('next');
          sub.onNext(x);
        },
        onError: (e) => sub.onError(e),
        onComplete: () => sub.onComplete(),
      }),
  };
  return { pub, calls };
}

export function fakeSubscription(): Subscription & { requests: number[]; cancels: number } {
  const s = { requests: [] as number[], cancels: 0, request: (n: number) => void s.requests.push(n), cancel: () => void s.cancels++ };
  return s;
}
