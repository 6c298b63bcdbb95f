// `npm run build` starts from an empty dist/: a module deleted from src/ must not ship from a stale build.
import { rmSync } from 'node:fs';

rmSync(new URL('../../dist', import.meta.url), { recursive: true, force: true });
