/**
 * `run(gate, fn)`: acquire, run, release with the outcome from the result or the thrown
 * error. Rejections surface as RejectedError; the permit is released exactly once.
 */
import { InvalidArgumentError, isPromise, optionKeys, rejectionError } from '../core/index.js';
import { admitChecked, CONTEXT_KEY_MAP, isContextKey } from '../core/gate-base.js';
import { callKnownKeys } from '../core/option-keys.js';
import type { Admission, AdmissionContext, Gate, Outcome } from '../core/index.js';

export interface RunOptions<T> extends AdmissionContext {
  /** Outcome of a completed call. @default () => 'success' */
  readonly classify?: (result: T) => Outcome;
  /** Outcome of a thrown error. @default () => 'failure' */
  readonly classifyError?: (error: unknown) => Outcome;
}

const RUN_KEYS = optionKeys<RunOptions<unknown>>({ ...CONTEXT_KEY_MAP, classify: true, classifyError: true });

// A .then chain rather than an async function: with 100k callers queued, 100k suspended
// async frames measured ~20% slower (bench/suites/concurrency.ts, paired A/B).
export function run<T>(gate: Gate, fn: () => T | PromiseLike<T>, options?: RunOptions<T>): Promise<T> {
  // Checked before admitting: a call that cannot run must not take a slot and be released
  // as a 'failure' (which trips breakers and cuts adaptive limits).
  const bad = badArgument(gate, fn, options);
  if (bad !== undefined) return Promise.reject(bad);
  let answer: Admission | Promise<Admission>;
  try {
    answer = options === undefined ? gate.admit(undefined) : admitWith(gate, options);
  } catch (err) {
    return Promise.reject(err as Error);
  }
  if (isPromise(answer)) return answer.then((a) => execute(a, fn, options));
  return execute(answer, fn, options);
}

function execute<T>(a: Admission, fn: () => T | PromiseLike<T>, options: RunOptions<T> | undefined): Promise<T> {
  if (!a.ok) return Promise.reject(rejectionError(a));
  let result: T | PromiseLike<T>;
  try {
    result = fn();
  } catch (err) {
    a.release(outcomeOf(options?.classifyError, err, 'failure'));
    return Promise.reject(err as Error);
  }
  return Promise.resolve(result).then(
    (value) => {
      a.release(outcomeOf(options?.classify, value, 'success'));
      return value;
    },
    (err: unknown) => {
      a.release(outcomeOf(options?.classifyError, err, 'failure'));
      throw err;
    },
  );
}

/** A classifier that throws must not leak the permit: its call counts as a failure, and a warning says why. */
function outcomeOf<V>(classify: ((v: V) => Outcome) | undefined, v: V, fallback: Outcome): Outcome {
  if (classify === undefined) return fallback;
  try {
    return classify(v);
  } catch (err) {
    process.emitWarning(`sluice: run() classifier threw: ${String(err)}`, { code: 'SLUICE_CLASSIFIER_ERROR' });
    return 'failure';
  }
}

/**
 * The gate admits with the context in `options`, its keys walked once, here (run()'s own keys
 * with them): without classify/classifyError, the options themselves, which the gate's
 * readContext then does not walk again (admitChecked); with them, a copy without.
 */
function admitWith<T>(gate: Gate, options: RunOptions<T>): Admission | Promise<Admission> {
  if (typeof options !== 'object' || options === null) return gate.admit(options); // the gate refuses it, naming what it takes
  let classified = false;
  for (const key in options) {
    if (isContextKey(key)) continue;
    if (key === 'classify' || key === 'classifyError') classified = true;
    else callKnownKeys('run', options, RUN_KEYS); // throws, naming the key
  }
  if (!classified) return admitChecked(gate, options);
  const { classify: _classify, classifyError: _classifyError, ...ctx } = options;
  return admitChecked(gate, ctx);
}

function badArgument<T>(gate: Gate, fn: unknown, options: RunOptions<T> | undefined): InvalidArgumentError | undefined {
  if (typeof (gate as Partial<Gate> | null)?.admit !== 'function') return new InvalidArgumentError('gate', 'a gate (an object with admit())', gate);
  if (typeof fn !== 'function') return new InvalidArgumentError('fn', 'a function', fn);
  if (options?.classify !== undefined && typeof options.classify !== 'function') return new InvalidArgumentError('classify', 'a function', options.classify);
  if (options?.classifyError !== undefined && typeof options.classifyError !== 'function') return new InvalidArgumentError('classifyError', 'a function', options.classifyError);
  return undefined;
}
