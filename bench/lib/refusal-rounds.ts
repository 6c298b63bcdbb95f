/**
 * bench:refusal's order of work. Every server is loaded at the same time, each by its own wrk,
 * but the wrks are started one after another: the first starts on a machine where the others
 * are not yet running, and its CPU window is not theirs. With one fixed order, the first
 * contender (this checkout's sluice) always had that place. Now round r starts at contender r,
 * so each takes each place in turn.
 *
 * The warm-up loads, each step, only the servers still short of their answers: the warm ones
 * used to be loaded too, taking CPU from the cold ones, which on a busy host then reached the
 * step cap cold and were measured so without a word. Those that stay cold are named.
 */

/** The start order of round `round` (1-based): a rotation of `items`. */
export function startOrder<T>(items: readonly T[], round: number): T[] {
  return items.map((_, i) => items[(i + round - 1) % items.length]!);
}

/** The servers the next warm-up step loads: those below `target` answers. */
export function stillCold(warmed: ReadonlyMap<string, number>, target: number): string[] {
  return [...warmed].filter(([, n]) => n < target).map(([name]) => name);
}

/** The warm-up's one line: answers per server, and which did not reach `target` (measured partly cold). */
export function warmUpLine(warmed: ReadonlyMap<string, number>, target: number): string {
  const line = `warm-up: ${[...warmed].map(([name, n]) => `${name} ${n}`).join(', ')} answers, not counted`;
  const cold = stillCold(warmed, target);
  return cold.length === 0 ? line : `${line}\nWARNING: warm-up incomplete — ${cold.join(', ')} below ${target} answers: their first rounds include JIT compilation`;
}
