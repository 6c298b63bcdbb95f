/** The gateway bench's progress lines: one per row as it is measured, open loop, closed loop and rate rows. */
import { ONSET_S } from './closed-loop.js';
import type { ClosedRow, RateRow } from './closed-loop.js';
import type { Measurement } from './measure.js';

export const openLine = (m: Measurement): string =>
  `  ${m.contender.padEnd(16)} ${`${m.multiple}x`.padStart(4)}  goodput ${Math.round(m.goodput).toString().padStart(5)}/s  p99 ${m.p99.toFixed(1).padStart(7)} ms  ` +
  `refused ${m.refused} (p99 ${Number.isFinite(m.refusedP99) ? m.refusedP99.toFixed(1) : '—'} ms, Retry-After ${m.refused === 0 ? '—' : `${(m.retryAfterShare * 100).toFixed(1)}%`})  ` +
  `timeouts ${m.timeouts}  errors ${m.errors}  CPU ${Number.isFinite(m.cpuPct) ? Math.round(m.cpuPct) : '—'}%  generator lag max ${m.maxLagMs.toFixed(0)} ms` +
  (m.slots === undefined
    ? ''
    : `\n    permits (gateway /status, ${m.slots.samples} samples): mean in flight ${m.slots.meanInFlight.toFixed(1)} (upstream in service ${m.upstreamMeanInService.toFixed(1)}: turnaround ${(m.slots.meanInFlight - m.upstreamMeanInService).toFixed(1)} slots), mean queued ${m.slots.meanQueued.toFixed(1)}; upstream served ${m.upstreamServedToGone} to clients gone`);

export const closedLine = (r: ClosedRow): string =>
  `  ${r.contender.padEnd(18)} ${String(r.connections).padStart(6)} conns  goodput ${Math.round(r.goodput).toString().padStart(5)}/s  refused ${Math.round(r.refusedPerS).toString().padStart(6)}/s ` +
  `(Retry-After ${Number.isFinite(r.retryAfterShare) ? `${(r.retryAfterShare * 100).toFixed(0)}%` : '—'}, probe p99 ${Number.isFinite(r.probeRefusalP99) ? r.probeRefusalP99.toFixed(1) : '—'} ms from ${(r.probeFromS ?? NaN).toFixed(1)} s${r.probeAfterAccept === true ? '' : ' (wrk not all accepted)'})  ` +
  `errors ${r.errors} timeouts ${r.timeouts}  CPU ${Math.round(r.cpuPct)}%${r.cpuPctByProcess.length > 1 ? ` (${r.cpuPctByProcess.map((c) => Math.round(c)).join('/')})` : ''}, ${Math.round(r.cpuUsPerAnswer)} µs per answer  upstream CPU ${Math.round(r.upstreamCpuPct ?? NaN)}% machine CPU ${Math.round(r.machineCpuPct ?? NaN)}%  upstream peak in-flight ${r.upstreamPeakInFlight}, mean in service ${r.upstreamMeanInService.toFixed(1)}` +
  (r.pacer === undefined ? '' : `\n    pacer per s: pauses ${Math.round(r.pacer.pauses)} (repaused ${Math.round(r.pacer.repaused)}), woken ${Math.round(r.pacer.woken)}, ran out ${Math.round(r.pacer.ranOut)}, refusals not paced ${Math.round(r.pacer.unpaced)}`) +
  (r.slots === undefined ? '' : `\n    permits ${r.inServiceOverWindow === true ? 'in the window' : 'over the whole run'} (gateway /status, ${r.slots.samples} samples): mean in flight ${r.slots.meanInFlight.toFixed(1)} (upstream in service ${r.upstreamMeanInService.toFixed(1)}: turnaround ${(r.slots.meanInFlight - r.upstreamMeanInService).toFixed(1)} slots), mean queued ${r.slots.meanQueued.toFixed(1)}, queue empty with a permit free ${(r.slots.emptyWithFree * 100).toFixed(0)}% of samples`) +
  (r.onset === undefined ? '' : `\n    onset (wrk's first ${r.onset.seconds.toFixed(1)} s, its connections arriving; not in the row): goodput ${Math.round(r.onset.goodput)}/s, refused ${Math.round(r.onset.refusedPerS)}/s`) +
  (r.served === undefined ? '' : `\n    upstream served per s from wrk's start: ${r.served.perSecond.join(', ')}; after the first ${r.onset === undefined ? ONSET_S : Math.round(r.onset.seconds)} s ${Math.round(r.served.afterOnsetPerS)}/s`) +
  (r.slots?.perWorker === undefined ? '' : `\n    per worker: ${r.slots.perWorker.map((w, i) => `#${i} connections ${w.meanConnections.toFixed(0)}, limit ${w.meanLimit.toFixed(1)}, in flight ${w.meanInFlight.toFixed(1)}, queued ${w.meanQueued.toFixed(1)}, idle while another queued ${(w.idleWhileOtherQueued * 100).toFixed(0)}%`).join('; ')}`);

export const rateLine = (r: RateRow): string =>
  `  ${r.contender.padEnd(16)} ${String(r.connections).padStart(5)} conns  upstream: ${r.admitted} in ${r.spanS.toFixed(3)} s of ${Math.round(r.allowed)} allowed (${(r.deviation * 100).toFixed(2)}%)  ` +
  `wrk: ${r.wrkAdmitted} of ${Math.round(r.wrkAllowed)} (${(r.wrkDeviation * 100).toFixed(2)}%)  refused ${r.refused}  offered ${Math.round(r.offeredPerS)}/s  ceiling ${Math.round(r.ceilingPerS)}/s${r.clientBound ? ' CLIENT-BOUND' : ''}  ` +
  `max gap ${r.maxGapMs.toFixed(1)} ms, ${Math.round(r.overflowed)} tokens overflowed (${Math.round(r.overflowedAllHeld)} while every connection waited on the upstream; shortfall ${Math.round(r.allowed - r.admitted)}), upstream max ${r.maxUpstreamMs.toFixed(1)} ms, refused with >= half a burst in the bucket ${r.refusedWithTokens} of ${r.refusalsInSpan}  pauses ${r.pauses}`;
