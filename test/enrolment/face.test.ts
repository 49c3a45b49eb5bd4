/**
 * Enrolling and verifying a face (src/enrolment/face.ts) over synthetic
 * analyses: what a user depends on is that their own face matches and gives
 * the same secret every time, a stranger's does not, and a bad enrolment
 * (too few images, two people, a poor or spoofed image) is refused with a
 * specific typed error and leaves nothing in $BIOSEAL_HOME.
 */
import assert from 'node:assert/strict';
import { readFileSync, statSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';

import { FaceQualityError } from '../../src/biometrics/face/errors.js';
import {
  enrolFace,
  EnrolmentError,
  ENROL_CONSISTENCY,
  FACE_TEMPLATE_PARAMS,
  MAX_ENROL_IMAGES,
  MIN_ENROL_IMAGES,
  verifyFace,
} from '../../src/enrolment/face.js';
import { loadFaceEnrolment, parseFaceEnrolment } from '../../src/enrolment/face-record.js';
import { CHEAP_PARAMS, FACERES_LIKE, Person, SYNTHETIC_EMBEDDER } from './synthetic.js';
import { biosealError, faceFiles, tempHome } from './helpers.js';

const owner = new Person(1001);
const stranger = new Person(1002);

describe('enrolFace then verifyFace', () => {
  const t = tempHome();
  after(() => t.cleanup());
  let result: Awaited<ReturnType<typeof enrolFace>>;

  before(async () => {
    result = await enrolFace({ home: t.home, name: 'alice', samples: owner.samples(5), params: CHEAP_PARAMS });
  });

  test('stores one record, mode 0600, under $BIOSEAL_HOME/enrolments/face/NAME.json', () => {
    assert.deepEqual(faceFiles(t.home), ['alice.json']);
    assert.equal(result.file, `${t.home}/enrolments/face/alice.json`);
    assert.equal(statSync(result.file).mode & 0o777, 0o600);
    assert.equal(result.enrolment.name, 'alice');
    assert.match(result.enrolment.id, /^[0-9a-f]{32}$/);
    assert.equal(result.enrolment.template.embedder, SYNTHETIC_EMBEDDER);
    assert.equal(result.enrolment.cohort, 'none');
    assert.ok(result.consistency >= ENROL_CONSISTENCY && result.consistency <= 1);
    assert.ok(result.unanimousBits > 0 && result.unanimousBits <= 510);
  });

  test('the record holds no embedding: no float arrays, only the documented fields', () => {
    const text = readFileSync(result.file, 'utf8');
    const o = JSON.parse(text) as Record<string, unknown>;
    assert.deepEqual(Object.keys(o).sort(), [
      'check', 'code', 'cohort', 'commitment', 'created', 'dimensions', 'embedder', 'format', 'id', 'indices', 'mac', 'name', 'projection', 'salt', 'version',
    ]);
    assert.doesNotMatch(text, /\d\.\d{4,}/, 'no embedding values');
    for (const v of owner.base.slice(0, 8)) assert.ok(!text.includes(String(v).slice(0, 8)));
  });

  test('the owner matches, with the same 32-byte secret every time, and passes liveness', async () => {
    const e = loadFaceEnrolment(t.home, 'alice');
    const first = await verifyFace(e, [owner.capture()]);
    assert.equal(first.match, true, first.reason);
    assert.ok(first.secret && first.secret.length === 32);
    assert.ok(first.score > 0.8 && first.score <= 1);
    assert.equal(first.liveness.passed, true);
    for (let i = 0; i < 5; i++) {
      const again = await verifyFace(e, [owner.capture()]);
      assert.equal(again.match, true);
      assert.deepEqual(again.secret, first.secret);
    }
  });

  test('strangers do not match, get no secret and a score of 0', async () => {
    const e = loadFaceEnrolment(t.home, 'alice');
    for (const p of [stranger, new Person(1003), new Person(1004)]) {
      const r = await verifyFace(e, [p.capture()]);
      assert.equal(r.match, false);
      assert.equal(r.secret, undefined);
      assert.equal(r.score, 0);
      assert.match(r.reason, /does not match/);
      assert.equal(r.liveness.passed, true, 'the liveness result is still reported');
    }
  });

  test('several frames: any one genuine frame matches; no genuine frame, no match', async () => {
    const e = result.enrolment;
    assert.equal((await verifyFace(e, [stranger.capture(), owner.capture()])).match, true);
    assert.equal((await verifyFace(e, [stranger.capture(), stranger.capture()])).match, false);
  });

  test('a spoofed frame (low anti-spoof or liveness score, or none) fails the whole presentation', async () => {
    const e = result.enrolment;
    for (const bad of [{ antispoof: 0.05 }, { liveness: 0.01 }, { antispoof: null, liveness: null }]) {
      const r = await verifyFace(e, [owner.capture(), owner.capture(bad)]);
      assert.equal(r.match, false, JSON.stringify(bad));
      assert.equal(r.secret, undefined);
      assert.equal(r.liveness.passed, false);
    }
    const relaxed = await verifyFace(e, [owner.capture({ antispoof: null, liveness: null })], { antispoof: 0.3, liveness: 0.1, allowMissing: true });
    assert.equal(relaxed.match, true, 'allowMissing is an explicit opt-in');
  });

  test('an analysis from another face model does not match', async () => {
    const r = await verifyFace(result.enrolment, [owner.capture({ embedder: 'faceapi-resnet' })]);
    assert.equal(r.match, false);
    assert.match(r.reason, /made with/);
  });

  test('an enrolment centred on another cohort does not match (and says re-enrol)', async () => {
    const r = await verifyFace({ ...result.enrolment, cohort: 'other-cohort' }, [owner.capture()]);
    assert.equal(r.match, false);
    assert.match(r.reason, /re-enrol/);
  });

  test('no frames: no match', async () => {
    const r = await verifyFace(result.enrolment, []);
    assert.equal(r.match, false);
    assert.equal(r.liveness.passed, false);
  });

  test('enrolling the same name again without overwrite is refused and keeps the record', async () => {
    const before = readFileSync(result.file, 'utf8');
    await assert.rejects(enrolFace({ home: t.home, name: 'alice', samples: owner.samples(3), params: CHEAP_PARAMS }), biosealError('E_EXISTS'));
    assert.equal(readFileSync(result.file, 'utf8'), before);
    assert.deepEqual(faceFiles(t.home), ['alice.json'], 'no temporary file left');
  });

  test('re-enrolling with overwrite revokes: new id, seed, check and secret', async () => {
    const old = loadFaceEnrolment(t.home, 'alice');
    const oldSecret = (await verifyFace(old, [owner.capture()])).secret;
    const r = await enrolFace({ home: t.home, name: 'alice', samples: owner.samples(4), params: CHEAP_PARAMS, overwrite: true });
    const fresh = loadFaceEnrolment(t.home, 'alice');
    assert.equal(fresh.id, r.enrolment.id);
    assert.notEqual(fresh.id, old.id);
    assert.notDeepEqual(fresh.template.commitment.check, old.template.commitment.check);
    assert.notDeepEqual(fresh.template.projection.seed, old.template.projection.seed);
    const now = await verifyFace(fresh, [owner.capture()]);
    assert.equal(now.match, true);
    assert.notDeepEqual(now.secret, oldSecret);
    assert.deepEqual(faceFiles(t.home), ['alice.json']);
  });
});

describe('enrolFace defaults', () => {
  test('use the documented code: BCH(255, 47, t=35) x 2 blocks over 2048 projected bits, Argon2id 32 MiB x 2', async () => {
    assert.deepEqual({ ...FACE_TEMPLATE_PARAMS }, { m: 8, t: 35, blocks: 2, kdfMemoryKiB: 32768, kdfPasses: 2, projectedOutputs: 2048 });
    assert.equal(MIN_ENROL_IMAGES, 3);
    assert.equal(MAX_ENROL_IMAGES, 32);
    const t = tempHome();
    try {
      const r = await enrolFace({ home: t.home, name: 'default', samples: owner.samples(3) });
      const stored = parseFaceEnrolment(readFileSync(r.file, 'utf8'));
      assert.deepEqual({ ...stored.template.commitment.params }, { m: 8, t: 35, blocks: 2, kdfMemoryKiB: 32768, kdfPasses: 2 });
      assert.equal(stored.template.projection.outputs, 2048);
      assert.equal((await verifyFace(stored, [owner.capture()])).match, true);
    } finally {
      t.cleanup();
    }
  });
});

describe('enrolFace refuses bad enrolments with typed errors and writes nothing', () => {
  const t = tempHome();
  after(() => t.cleanup());

  async function refused(samples: Parameters<typeof enrolFace>[0]['samples'], check: (e: unknown) => boolean, name = 'bob'): Promise<void> {
    await assert.rejects(enrolFace({ home: t.home, name, samples, params: CHEAP_PARAMS }), check);
    assert.deepEqual(faceFiles(t.home), [], 'no record and no temporary file');
  }

  test('fewer than 3 images', async () => {
    for (const n of [0, 1, 2]) await refused(owner.samples(n), biosealError('E_ENROLMENT', /at least 3/));
    await refused(owner.samples(2), (e) => e instanceof EnrolmentError);
  });

  test('more than 32 images', async () => {
    await refused(owner.samples(33), biosealError('E_ENROLMENT', /at most 32/));
  });

  test('images of two people (inconsistent), naming the images that disagree', async () => {
    const samples = [...owner.samples(3), { label: 'intruder.jpg', analysis: stranger.capture() }];
    await refused(samples, biosealError('E_ENROLMENT', /intruder\.jpg.*same person|same person.*intruder\.jpg/));
  });

  test('images of two people whose embeddings share a common part (raw cosine about 0.45, like FaceRes without a cohort mean) are refused', async () => {
    const a = new Person(1101, 0.3, FACERES_LIKE);
    const b = new Person(1102, 0.3, FACERES_LIKE);
    const mixed = [...a.samples(3), { label: 'other-person.jpg', analysis: b.capture() }];
    const own = tempHome();
    let accepted: Awaited<ReturnType<typeof enrolFace>> | undefined;
    try {
      accepted = await enrolFace({ home: own.home, name: 'mixed', samples: mixed, params: CHEAP_PARAMS });
    } catch (error) {
      assert.ok(biosealError('E_ENROLMENT', /other-person\.jpg/)(error));
      assert.deepEqual(faceFiles(own.home), []);
      return;
    } finally {
      if (!accepted) own.cleanup();
    }
    const bMatches = (await verifyFace(accepted.enrolment, [b.capture()])).match;
    const aMatches = (await verifyFace(accepted.enrolment, [a.capture()])).match;
    own.cleanup();
    assert.fail(
      `an enrolment of two people was accepted (consistency ${accepted.consistency.toFixed(2)} >= ${ENROL_CONSISTENCY}); ` +
        `its template matches person A: ${aMatches}, and the other person: ${bMatches}`,
    );
  });

  test('images analysed by different face models', async () => {
    const samples = [...owner.samples(2), { label: 'x.jpg', analysis: owner.capture({ embedder: 'other-model' }) }];
    await refused(samples, biosealError('E_USAGE'));
  });

  const POOR = [
    ['too dark', { brightness: 10 }, 'too-dark', /too dark/],
    ['overexposed', { brightness: 250 }, 'too-bright', /overexposed/],
    ['too small', { interEyePx: 10 }, 'too-small', /too small/],
    ['blurred', { sharpness: 1 }, 'blurred', /blurred/],
    ['low contrast', { contrast: 3 }, 'low-contrast', /contrast/],
    ['turned away', { yawDeg: 50 }, 'turned-away', /turned/],
    ['low detection confidence', { detectionScore: 0.2 }, 'low-confidence', /confidence/],
  ] as const;

  test('a poor image (dark, overexposed, small, blurred, flat, turned away, unsure detection): E_FACE_QUALITY', async () => {
    for (const [what, quality] of POOR) {
      const samples = [...owner.samples(3), { label: 'bad-one.jpg', analysis: owner.capture({ quality }) }];
      await refused(samples, (e) => {
        assert.ok(e instanceof FaceQualityError, `${what}: expected FaceQualityError, got ${String(e)}`);
        assert.equal(e.code, 'E_FACE_QUALITY');
        return true;
      });
    }
  });

  test('the quality error keeps its reason, measure and limit, and its message names the image and the problem', async () => {
    for (const [what, quality, reason, words] of POOR) {
      const samples = [...owner.samples(3), { label: 'bad-one.jpg', analysis: owner.capture({ quality }) }];
      await refused(samples, (e) => {
        assert.ok(e instanceof FaceQualityError);
        assert.equal(e.reason, reason, `${what}: the reason says which gate failed`);
        assert.equal(typeof e.measured, 'number', `${what}: measured`);
        assert.equal(typeof e.limit, 'number', `${what}: limit`);
        assert.match(e.message, /bad-one\.jpg/, `${what}: the message names the image`);
        assert.match(e.message, words, `${what}: the message says what is wrong: "${e.message}"`);
        return true;
      });
    }
  });

  test('an image failing passive liveness (a photo of a photo), or with no liveness scores', async () => {
    for (const bad of [{ antispoof: 0.05 }, { liveness: 0.02 }, { antispoof: null, liveness: null }]) {
      const samples = [...owner.samples(3), { label: 'spoof.jpg', analysis: owner.capture(bad) }];
      await refused(samples, biosealError('E_ENROLMENT', /spoof\.jpg/));
    }
  });

  test('an invalid enrolment name', async () => {
    for (const name of ['', '../escape', 'a/b', '.hidden', 'x'.repeat(65), 'sp ace']) {
      await refused(owner.samples(3), biosealError('E_USAGE'), name);
    }
  });
});

describe('strangers the model finds somewhat alike', () => {
  test('with a common component (raw cosine about 0.45), a stranger still does not match a one-person enrolment', async () => {
    const t = tempHome();
    try {
      const a = new Person(1201, 0.3, FACERES_LIKE);
      const r = await enrolFace({ home: t.home, name: 'a', samples: a.samples(4), params: CHEAP_PARAMS });
      assert.equal((await verifyFace(r.enrolment, [a.capture()])).match, true);
      for (let i = 0; i < 10; i++) {
        const s = new Person(1300 + i, 0.3, FACERES_LIKE);
        assert.equal((await verifyFace(r.enrolment, [s.capture()])).match, false, `stranger ${i}`);
      }
    } finally {
      t.cleanup();
    }
  });
});
