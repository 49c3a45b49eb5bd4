import { biosealHomePath } from '../../home.js';
import { UsageError } from '../../errors.js';
import { analyseImages } from '../face-input.js';
import { loadFaceEnrolment } from '../../enrolment/face-record.js';
import { AttemptLimiter } from '../../factors/rate-limit.js';
import { wipe } from '../../util/bytes.js';
import type { Command } from '../command.js';

export const verifyCommand: Command = {
  name: 'verify',
  summary: 'check a face against the enrolled person (score, decision, liveness)',
  help: `Usage: bioseal verify face IMAGE... [--name NAME] [--json]

Checks the face in the images against the enrolment NAME (default: default):
passive liveness on every image, then the protected template. Prints the match
score, the decision and the liveness result. Exits 0 only on a match (3 when
the face does not match or fails liveness).

Failed attempts are rate limited as for unlocking: after 5 in a row, each
attempt waits 30 s, then twice as long.`,
  options: { name: { type: 'string' } },
  async run(values, positionals, out) {
    const [factor, ...images] = positionals;
    if (factor !== 'face') throw new UsageError(factor ? `cannot verify "${factor}" (this version verifies: face)` : 'verify needs a factor: bioseal verify face IMAGE...');
    if (images.length === 0) throw new UsageError('verify face needs at least one IMAGE');
    const home = biosealHomePath();
    const enrolment = loadFaceEnrolment(home, (values.name as string | undefined) ?? 'default');
    const limiter = new AttemptLimiter(home);
    const key = `face:${enrolment.id}`;
    limiter.beginAttempt(key, 'face');
    const samples = await analyseImages(images);
    const { verifyFace } = await import('../../enrolment/face.js');
    const r = await verifyFace(enrolment, samples.map((s) => s.analysis));
    wipe(r.secret);
    if (r.match) limiter.recordSuccess(key);
    out.info(`${r.match ? 'MATCH' : 'NO MATCH'}: ${r.reason}`);
    out.info(`  score:    ${r.score.toFixed(3)} (share of template bits that agree; matches decode at ${r.match ? 'this' : 'a higher'} level)`);
    out.info(`  liveness: ${r.liveness.passed ? 'passed' : 'FAILED'} (anti-spoof ${r.liveness.antispoof?.toFixed(2) ?? 'n/a'}, liveness ${r.liveness.liveness?.toFixed(2) ?? 'n/a'})`);
    out.result({ match: r.match, score: r.score, decision: r.match ? 'match' : 'no-match', reason: r.reason, liveness: r.liveness, enrolment: enrolment.name });
    return r.match ? 0 : 3;
  },
};
