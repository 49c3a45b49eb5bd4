/**
 * `bioseal eval takeover [--keystroke FILE.csv] [--faces DIR]`: time from an
 * impostor taking over to the daemon's lock, and false locks of the owner
 * per 8-hour day, replaying dataset samples through the trust engine with
 * the daemon's trust configuration (src/eval/takeover.ts; the defaults, or
 * --trust FILE). Three schedules in one run: the one asked for (default a
 * typing sample every 5 s and a face re-check every 10 s), a sparse one and
 * a dense one.
 */
import { UsageError } from '../../errors.js';
import type { OptionsSpec } from '../command.js';
import type { Output } from '../output.js';
import type { ScheduleResult, Schedule, TakeoverOwner } from '../../eval/takeover.js';

export const TAKEOVER_HELP = `eval takeover replays dataset samples through the daemon's trust engine on a
simulated clock: each owner's own typing (--keystroke FILE.csv, MEU layout)
and face re-checks (--faces DIR, one folder per person) until an impostor's
take over at a random moment. It reports the time to lock (median, p95,
max) and the owner's false locks per 8-hour day (--days N per owner,
default 3), for a typing sample every --keystroke-every S seconds (default
5) and a face re-check every --face-every S (default 10), and beside it for
a sparse schedule (typing every 10 s, a face every 30 s) and a dense one
(typing every 5 s, a face every 2 s). --trust FILE replays with those trust
settings (JSON, as bioseal serve --trust takes) instead of the defaults.
Goal: median time to lock under 5 s with fewer than one false lock per
owner and 8-hour day; docs/DAEMON-PERF.md.`;

export const TAKEOVER_OPTIONS: OptionsSpec = {
  keystroke: { type: 'string' },
  faces: { type: 'string' },
  'keystroke-every': { type: 'string' },
  'face-every': { type: 'string' },
  days: { type: 'string' },
  trust: { type: 'string' },
};

/** The schedule asked for by default: typing the phrase back to back, a face re-check every 10 s. */
export const DEFAULT_SCHEDULE: Schedule = { keystrokeEverySeconds: 5, faceEverySeconds: 10 };
/** Reported beside it: occasional typing and re-checks. */
export const SPARSE_SCHEDULE: Schedule = { keystrokeEverySeconds: 10, faceEverySeconds: 30 };
/** Reported beside it: back-to-back typing of the phrase, a camera frame every 2 s. */
export const DENSE_SCHEDULE: Schedule = { keystrokeEverySeconds: 5, faceEverySeconds: 2 };
/** The goals of issue 5. */
export const TAKEOVER_GOAL_SECONDS = 5;
export const FALSE_LOCKS_GOAL_PER_DAY = 1;

function seconds(values: Record<string, unknown>, name: string, dflt: number): number {
  const v = values[name] === undefined ? dflt : Number(values[name]);
  if (!Number.isFinite(v) || v < 0.1 || v > 3600) throw new UsageError(`--${name} must be a number of seconds from 0.1 to 3600`);
  return v;
}

export async function evalTakeover(positionals: readonly string[], values: Record<string, unknown>, out: Output): Promise<number> {
  if (positionals.length) throw new UsageError('eval takeover takes no positional arguments: --keystroke FILE.csv and/or --faces DIR');
  const keystrokeFile = values.keystroke as string | undefined;
  const faceDir = values.faces as string | undefined;
  if (!keystrokeFile && !faceDir) throw new UsageError('eval takeover needs --keystroke FILE.csv (MEU-Mobile KSD layout) and/or --faces DIR (one folder per person)');
  const schedule: Schedule = {
    keystrokeEverySeconds: seconds(values, 'keystroke-every', DEFAULT_SCHEDULE.keystrokeEverySeconds),
    faceEverySeconds: seconds(values, 'face-every', DEFAULT_SCHEDULE.faceEverySeconds),
  };
  const { readTrustConfigFile } = await import('../../trust/config-file.js');
  const trustFile = values.trust as string | undefined;
  const settings = trustFile ? readTrustConfigFile(trustFile) : undefined;
  const days = values.days === undefined ? 3 : Number(values.days);
  if (!Number.isInteger(days) || days < 1 || days > 100) throw new UsageError('--days must be an integer from 1 to 100');
  const progress = (line: string) => {
    if (!out.json && process.stderr.isTTY) process.stderr.write(`\r${line}`);
  };
  const { keystrokePools, facePools, pairOwners, MEU_PHRASE_KEYS } = await import('../../eval/takeover-pools.js');
  const { evaluateSchedule } = await import('../../eval/takeover.js');
  const { resolveTrustConfig } = await import('../../trust/config.js');
  let keystroke;
  if (keystrokeFile) {
    const { readKeystrokeCsv } = await import('../../eval/keystroke-eval.js');
    keystroke = await keystrokePools(readKeystrokeCsv(keystrokeFile));
  }
  let face;
  let faceNotes = '';
  if (faceDir) {
    const { listDataset } = await import('../../eval/face-eval.js');
    const { sharedEmbedder } = await import('../../biometrics/face/shared-embedder.js');
    const { readImageFile } = await import('../../biometrics/face/image.js');
    const embedder = await sharedEmbedder();
    const r = await facePools(listDataset(faceDir, 10), embedder, (f) => readImageFile(f), (d, t, stage) => progress(`${stage} ${d}/${t}   `));
    if (!out.json && process.stderr.isTTY) process.stderr.write('\n');
    face = r.people;
    faceNotes = `${r.people.length} people enrolled from ${5} images (${embedder.name}); ${r.unusableImages} images unusable; not enrolled: ${r.notEnrolled.join(', ') || 'none'}`;
  }
  const owners = pairOwners(keystroke, face);
  const options = { keys: MEU_PHRASE_KEYS, trust: settings?.input };
  // Owners at even positions (0, 2, ...) and at odd positions: when a default is tuned, it is tuned on one half and reported on the other.
  const halves = { even: owners.filter((_, i) => i % 2 === 0), odd: owners.filter((_, i) => i % 2 === 1) };
  const run = (s: Schedule, list: readonly TakeoverOwner[]) => evaluateSchedule(list, { ...options, schedule: s }, days);
  const results = [schedule, SPARSE_SCHEDULE, DENSE_SCHEDULE].map((s) => ({ all: run(s, owners), even: run(s, halves.even), odd: run(s, halves.odd) }));
  const describe = (r: ScheduleResult) => {
    const t = r.timeToLockSeconds;
    const f = (x: number | null) => (x === null ? 'never' : `${x.toFixed(1)} s`);
    return `time to lock median ${f(t.median)}, p95 ${f(t.p95)}, max ${f(t.max)} over ${t.trials} takeovers${t.notLocked ? ` (${t.notLocked} never locked within an hour)` : ''}; ` +
      `false locks ${r.falseLocksPerDay.toFixed(3)} per 8-hour day over ${r.genuineDays} days`;
  };
  const c = settings?.config ?? resolveTrustConfig();
  out.info(`${owners.length} owners (${[keystroke && `keystroke: ${keystroke.length} subjects enrolled on 25 typings`, face && `face: ${faceNotes}`].filter(Boolean).join('; ')})`);
  out.info(`trust: ${trustFile ? `the settings in ${trustFile}` : "the daemon's defaults"} (half-life ${c.halfLifeSeconds} s, lock below ${c.lockThreshold}, a typing sample counts whole from ${c.fullWeightKeystrokes} keys; unlock with face and key file, ${MEU_PHRASE_KEYS} keys per typing sample)`);
  for (const r of results) {
    const s = r.all.schedule;
    out.info(`typing every ${s.keystrokeEverySeconds} s, face every ${s.faceEverySeconds} s:`);
    out.info(`  all owners:          ${describe(r.all)}`);
    out.info(`  even-position half:  ${describe(r.even)}`);
    out.info(`  odd-position half:   ${describe(r.odd)}`);
  }
  // The goal is on the median; the p95 is reported beside it.
  const goal = (r: ScheduleResult) => ({
    medianTimeToLockUnder5s: r.timeToLockSeconds.median !== null && r.timeToLockSeconds.median < TAKEOVER_GOAL_SECONDS,
    falseLocksUnder1PerDay: r.falseLocksPerDay < FALSE_LOCKS_GOAL_PER_DAY,
    p95TimeToLockUnder5s: r.timeToLockSeconds.p95 !== null && r.timeToLockSeconds.p95 < TAKEOVER_GOAL_SECONDS,
  });
  const [asked, sparse, dense] = results as [(typeof results)[number], (typeof results)[number], (typeof results)[number]];
  const met = (r: ScheduleResult) => {
    const g = goal(r);
    return `${g.medianTimeToLockUnder5s && g.falseLocksUnder1PerDay ? 'met' : 'not met'}${g.p95TimeToLockUnder5s ? '' : ' (p95 not under 5 s)'}`;
  };
  out.info(`goal (median time to lock < ${TAKEOVER_GOAL_SECONDS} s, false locks < ${FALSE_LOCKS_GOAL_PER_DAY} per day): asked schedule ${met(asked.all)}; sparse ${met(sparse.all)}; dense ${met(dense.all)}`);
  out.result({
    owners: owners.length,
    keystroke: keystroke ? { file: keystrokeFile, subjects: keystroke.length, keysPerSample: MEU_PHRASE_KEYS } : null,
    face: face ? { dir: faceDir, people: face.length, notes: faceNotes } : null,
    days,
    trust: { file: trustFile ?? null, halfLifeSeconds: c.halfLifeSeconds, lockThreshold: c.lockThreshold, fullWeightKeystrokes: c.fullWeightKeystrokes, ceiling: c.ceiling },
    schedule: { ...asked, goals: goal(asked.all) },
    sparse: { ...sparse, goals: goal(sparse.all) },
    dense: { ...dense, goals: goal(dense.all) },
  });
  return 0;
}
