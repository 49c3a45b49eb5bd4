/**
 * The daemon section of `bioseal bench` in words: what each figure measures
 * (the policy and trust checks alone, JSON conversion, HTTP end to end,
 * load from a second process, the lock mid-run) next to the figure.
 */
import type { DaemonBench, LoadRun, OverheadEstimate, PerCall } from './daemon.js';

export type { DaemonBench } from './daemon.js';

function yes(met: boolean | null): string {
  return met === null ? 'n/a' : met ? 'met' : 'MISSED';
}

function overhead(o: OverheadEstimate): string {
  return `${o.slowerPercent.toFixed(2)}% slower (95% CI ${o.ci.low.toFixed(2)} to ${o.ci.high.toFixed(2)}), throughput loss ${o.throughputLossPercent.toFixed(2)}%`;
}

function loadLine(r: LoadRun): string {
  return `${Math.round(r.requestsPerSecond)} requests/s, latency p50 ${r.latencyMs.p50} ms, p99 ${r.latencyMs.p99} ms (2xx only); errors ${r.errors}, timeouts ${r.timeouts}, non-2xx ${r.non2xx}`;
}

function perCallLines(p: PerCall, goalPercent: number, met: boolean): string[] {
  const ms = (x: number) => `${x.toFixed(3)} ms`;
  return [
    `   direct  onnxruntime session.run on prepared tensors          ${ms(p.medianMs.direct)}`,
    `   json    the daemon's inference step (JSON in, JSON out)      ${ms(p.medianMs.json)}`,
    `   gated   token, Cedar decision on trust and factor ages,      ${ms(p.medianMs.gated)}`,
    `           call counted for the audit log, inference, lock re-check (in-process)`,
    `   http    POST ${'/v1/models/NAME/infer'} on loopback, end to end     ${ms(p.medianMs.http)}`,
    `   policy and trust checks per call (gated vs json): ${overhead(p.checks)}`,
    `   noise floor, the json path against a copy of itself: ${overhead(p.noiseFloor)}`,
    `   the checks timed alone: ${p.checksAloneUs.toFixed(2)} µs per call = ${p.checksAloneSharePercent.toFixed(3)}% of a json call`,
    `   audit: counted calls appended once every ${p.auditAppend.everyMs / 1000} s, ${p.auditAppend.medianMs.toFixed(2)} ms each (signed head, fsync) = ${p.auditAppend.sharePercent.toFixed(3)}% of throughput`,
    `   goal: checks + audit cost <= ${goalPercent}% of throughput: ${p.totalThroughputLossPercent.toFixed(3)}%, ${yes(met)}`,
    `   side by side the checks add ${p.fixedCostUs.toFixed(1)} µs per call, whatever the model: <= ${goalPercent}% for models of ${p.modelMsForGoal.toFixed(1)} ms or more per call`,
    `   for reference, not the checks: gated vs direct (adds JSON conversion) ${overhead(p.gatedVsDirect)}`,
    `   http vs direct (adds HTTP parsing, the network stack, JSON): ${overhead(p.httpVsDirect)}`,
  ];
}

/** The daemon section as lines for people. */
export function describeDaemon(d: DaemonBench): string[] {
  const p = d.perCall;
  const lines = [
    '',
    `daemon: ${d.model.description}, ${(d.model.bytes / 1e6).toFixed(1)} MB, sealed under a key file and loaded into a daemon in this process`,
    `1. per-call cost, median over ${p.rounds} rounds of one call of each path in random order`,
    ...perCallLines(p, d.goal.maxOverheadPercent, d.goal.overheadMet),
    `1b. the same on ${d.large.model.description}, ${(d.large.model.bytes / 1e6).toFixed(1)} MB, ${d.large.perCall.rounds} rounds`,
    ...perCallLines(d.large.perCall, d.goal.maxOverheadPercent, d.goal.overheadMetLargeModel),
  ];
  if (!d.load.available || !d.lock.available) {
    const reason = !d.load.available ? d.load.reason : !d.lock.available ? d.lock.reason : '';
    lines.push(`2. load from a second process: unavailable (${reason}); goal: n/a`);
    return lines;
  }
  const l = d.lock;
  lines.push(
    `2. load: ${d.load.connections} clients (autocannon, second process) for ${d.load.durationSeconds} s on POST /v1/models/NAME/infer`,
    `   ${loadLine(d.load)}; goal no errors: ${yes(d.goal.loadWithoutErrors)}`,
    `3. lock mid-run: POST /v1/lock sent at ${l.lockSentAfterSeconds} s, answered in ${l.lockAnswerMs} ms`,
    `   before it: ${l.written.ok} answered 2xx; written by the daemon after the answer arrived: ${l.writtenAfterLock.responses} responses, ` +
      `${l.writtenAfterLock.locked} of them 423, ${l.writtenAfterLock.ok} 2xx, ${l.writtenAfterLock.other} other`,
    `   completed at the client after it: ${l.completedAfterLock.responses} (${l.completedAfterLock.ok} 2xx written before the lock, in flight)`,
    `   goal every later response 423: ${yes(d.goal.lockStopsLaterResponses)}`,
  );
  return lines;
}
