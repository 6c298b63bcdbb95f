/**
 * Why a connected Redis is not ready. ioredis holds a connection back from 'ready' while
 * Redis loads its dataset (its ready check, INFO, says `loading:1`), and says nothing of it:
 * the store's calls failed with "Stream isn't writeable", and a store started against a
 * loading Redis said "unreachable at start (no connection)" — as if nothing listened. INFO
 * is one of the commands ioredis sends before 'ready' (Redis answers it while loading).
 */
import type { Redis } from 'ioredis';

/** The field `name` of an INFO reply. */
function field(info: string, name: string): string | undefined {
  return new RegExp(`^${name}:(.*)$`, 'm').exec(info)?.[1]?.trim();
}

/** A LOADING error with the load's progress when `client` is connected and Redis is loading; undefined otherwise. */
export async function loadingError(client: Redis): Promise<Error | undefined> {
  let info: string;
  try {
    info = await client.info('persistence');
  } catch {
    return undefined;
  }
  if (field(info, 'loading') !== '1') return undefined;
  const perc = field(info, 'loading_loaded_perc');
  const eta = field(info, 'loading_eta_seconds');
  return new Error(`LOADING Redis is loading its dataset${perc === undefined ? '' : ` (${perc}% loaded${eta === undefined ? '' : `, about ${eta} s left`})`}; the store is shared again once it is loaded`);
}
