// Contention for a limit shared across processes: every caller at once, each holding its slot
// a few milliseconds, so a gate that leaked a slot would show more held at once than the limit.

export interface Acquirable {
  acquire(): Promise<{ release(): void }>;
}

/** `perGate` callers on each gate at once, each holding its permit 5–15 ms; the most held at the same time across all gates. */
export async function peakHeld(gates: readonly Acquirable[], perGate: number): Promise<number> {
  let now = 0;
  let max = 0;
  const work = async (g: Acquirable): Promise<void> => {
    const p = await g.acquire();
    now++;
    max = Math.max(max, now);
    await new Promise((r) => setTimeout(r, 5 + Math.random() * 10));
    now--;
    p.release();
  };
  await Promise.all(gates.flatMap((g) => Array.from({ length: perGate }, () => work(g))));
  return max;
}
