// The unit files share their forks (vitest.config.ts: isolate: false), so a file must not leave
// a subscriber on sluice's diagnostics channels behind: the channels are process-wide, and a gate
// that sees one reads its clock and builds events that a later file, in whatever order the files
// run, counts on not being there (test/breaker/clock-reads.test.ts failed so). This check fails
// the file that left one, whatever runs after it.
import dc from 'node:diagnostics_channel';
import { afterAll } from 'vitest';

const CHANNELS = ['sluice:admit', 'sluice:reject', 'sluice:release', 'sluice:drop', 'sluice:breaker:state', 'sluice:pressure'];

afterAll(() => {
  const held = CHANNELS.filter((name) => dc.channel(name).hasSubscribers);
  if (held.length > 0) throw new Error(`this file left a subscriber on ${held.join(', ')}: stop the metrics adapter or unsubscribe in the file (the unit files share their processes)`);
});
