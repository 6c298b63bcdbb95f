/** Poll until `cond` holds, at most `tries` times `everyMs` apart; whether it held. */
export async function eventually(cond: () => boolean, tries = 300, everyMs = 10): Promise<boolean> {
  for (let i = 0; i < tries && !cond(); i++) await new Promise((r) => setTimeout(r, everyMs));
  return cond();
}
