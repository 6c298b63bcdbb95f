/** `pipe(source, op1, op2, ...)`: apply operators left to right. */
import type { Operator, Publisher } from './types.js';
import { argPublisher, badArgument } from './arguments.js';

export function pipe<A>(source: Publisher<A>): Publisher<A>;
export function pipe<A, B>(source: Publisher<A>, op1: Operator<A, B>): Publisher<B>;
export function pipe<A, B, C>(source: Publisher<A>, op1: Operator<A, B>, op2: Operator<B, C>): Publisher<C>;
export function pipe<A, B, C, D>(source: Publisher<A>, op1: Operator<A, B>, op2: Operator<B, C>, op3: Operator<C, D>): Publisher<D>;
export function pipe<A, B, C, D, E>(source: Publisher<A>, op1: Operator<A, B>, op2: Operator<B, C>, op3: Operator<C, D>, op4: Operator<D, E>): Publisher<E>;
export function pipe<A, B, C, D, E, F>(source: Publisher<A>, op1: Operator<A, B>, op2: Operator<B, C>, op3: Operator<C, D>, op4: Operator<D, E>, op5: Operator<E, F>): Publisher<F>;
export function pipe<A, B, C, D, E, F, G>(
  source: Publisher<A>,
  op1: Operator<A, B>,
  op2: Operator<B, C>,
  op3: Operator<C, D>,
  op4: Operator<D, E>,
  op5: Operator<E, F>,
  op6: Operator<F, G>,
): Publisher<G>;
export function pipe(source: Publisher<unknown>, ...ops: Operator<unknown, unknown>[]): Publisher<unknown>;
export function pipe(source: Publisher<unknown>, ...ops: Operator<unknown, unknown>[]): Publisher<unknown> {
  argPublisher('pipe', source);
  let p = source;
  for (const [i, op] of ops.entries()) {
    if (typeof op !== 'function') throw badArgument('pipe', `ops[${i}]`, 'an operator (a function)', op);
    p = op(p);
  }
  return p;
}
