/**
 * Reading `fido2-token -L` / `-I` output (formats of libfido2's tools/token.c),
 * choosing how a key verifies its user, naming a key explicitly, and turning
 * the tools' failures (libfido2's FIDO_ERR_ names) into typed DeviceErrors.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { DeviceError, UsageError } from '../../../src/errors.js';
import { explicitDevice, parseDeviceInfo, parseDeviceList, userVerificationOf } from '../../../src/devices/fido2/discovery.js';
import { toolFailure } from '../../../src/devices/fido2/tool-errors.js';
import { FINGERPRINT_KEY_INFO, PIN_KEY_INFO } from '../../../src/devices/fido2/software-authenticator.js';

describe('fido2-token output', () => {
  test('-L: one entry per key, paths with spaces kept, other lines ignored', () => {
    const out = [
      '/dev/hidraw4: vendor=0x1050, product=0x0402 (Yubico YubiKey FIDO)',
      'ioreg://4294970000 with space: vendor=0x096e, product=0x0858 (FT BioPass FIDO2)',
      'garbage line',
      '',
    ].join('\n');
    assert.deepEqual(parseDeviceList(out), [
      { path: '/dev/hidraw4', description: 'Yubico YubiKey FIDO (vendor 0x1050, product 0x0402)' },
      { path: 'ioreg://4294970000 with space', description: 'FT BioPass FIDO2 (vendor 0x096e, product 0x0858)' },
    ]);
    assert.deepEqual(parseDeviceList(''), []);
  });

  test('-I: versions, extensions, options with their "no" prefix, aaguid', () => {
    const info = parseDeviceInfo(FINGERPRINT_KEY_INFO);
    assert.deepEqual(info.versions, ['U2F_V2', 'FIDO_2_0', 'FIDO_2_1']);
    assert.ok(info.extensions.includes('hmac-secret'));
    assert.equal(info.options.get('uv'), true);
    assert.equal(info.options.get('plat'), false);
    assert.equal(info.options.get('clientPin'), true);
    assert.equal(info.aaguid, 'd8522d9f575b486688a9ba99fa02f35b');
  });
});

describe('user verification of a key', () => {
  test('a fingerprint key verifies by itself; a PIN key by its PIN', () => {
    assert.equal(userVerificationOf(parseDeviceInfo(FINGERPRINT_KEY_INFO), '/dev/x'), 'builtin');
    assert.equal(userVerificationOf(parseDeviceInfo(PIN_KEY_INFO), '/dev/x'), 'pin');
    // A fingerprint reader with no finger enrolled ("nouv") falls back to the PIN.
    assert.equal(userVerificationOf(parseDeviceInfo(FINGERPRINT_KEY_INFO.replace('up, uv,', 'up, nouv,')), '/dev/x'), 'pin');
  });

  const unsupported = (info: string, message: RegExp) =>
    assert.throws(() => userVerificationOf(parseDeviceInfo(info), '/dev/x'), (e: unknown) => e instanceof DeviceError && e.failure === 'unsupported' && message.test(e.message));

  test('no PIN set and no fingerprint, no hmac-secret, or U2F only: unsupported', () => {
    unsupported(PIN_KEY_INFO.replace('clientPin', 'noclientPin'), /cannot verify its user/);
    unsupported(FINGERPRINT_KEY_INFO.replace('hmac-secret, ', ''), /hmac-secret/);
    unsupported('proto: 0x02\nmajor: 0x01\nminor: 0x00\nbuild: 0x00\ncaps: 0x01 (wink, nocbor, msg)\n', /U2F-only/);
  });
});

describe('naming a key', () => {
  test('--device wins over BIOSEAL_FIDO2_DEVICE; none: undefined; bad paths refused', () => {
    assert.equal(explicitDevice('/dev/hidraw1', { BIOSEAL_FIDO2_DEVICE: '/dev/hidraw2' }), '/dev/hidraw1');
    assert.equal(explicitDevice(undefined, { BIOSEAL_FIDO2_DEVICE: '/dev/hidraw2' }), '/dev/hidraw2');
    assert.equal(explicitDevice(undefined, { BIOSEAL_FIDO2_DEVICE: '' }), undefined);
    assert.equal(explicitDevice(undefined, {}), undefined);
    assert.throws(() => explicitDevice('-d', {}), UsageError);
  });
});

describe('tool failures', () => {
  const fail = (stderr: string, pinMissing = false) => toolFailure('fido2-assert', { exitCode: 1, stdout: '', stderr, pinMissing }, '/dev/hidraw0');

  test('libfido2 errors map to the failure kinds', () => {
    const cases: [string, string][] = [
      ['FIDO_ERR_PIN_INVALID', 'refused'],
      ['FIDO_ERR_PIN_BLOCKED', 'refused'],
      ['FIDO_ERR_PIN_AUTH_BLOCKED', 'refused'],
      ['FIDO_ERR_UV_INVALID', 'refused'],
      ['FIDO_ERR_UV_BLOCKED', 'refused'],
      ['FIDO_ERR_OPERATION_DENIED', 'refused'],
      ['FIDO_ERR_NO_CREDENTIALS', 'refused'],
      ['FIDO_ERR_ACTION_TIMEOUT', 'timeout'],
      ['FIDO_ERR_USER_ACTION_TIMEOUT', 'timeout'],
      ['FIDO_ERR_KEEPALIVE_CANCEL', 'cancelled'],
      ['FIDO_ERR_UNSUPPORTED_OPTION', 'unsupported'],
      ['FIDO_ERR_UNSUPPORTED_EXTENSION', 'unsupported'],
      ['FIDO_ERR_PIN_NOT_SET', 'unsupported'],
      ['FIDO_ERR_RX', 'unavailable'],
    ];
    for (const [name, failure] of cases) {
      const e = fail(`fido2-assert: fido_dev_get_assert: ${name}\n`);
      assert.equal(e.failure, failure, name);
      assert.equal(e.fidoError, name);
      assert.match(e.message, /\/dev\/hidraw0/);
      if (failure !== 'unavailable') assert.ok(e.message.includes(name), e.message);
    }
  });

  test('a device that cannot be opened is unavailable; a short PIN is refused; a missing PIN says how to give one', () => {
    assert.equal(fail('fido2-assert: fido_dev_open /dev/hidraw0: FIDO_ERR_RX\n').failure, 'unavailable');
    assert.equal(fail('fido2-assert: invalid PIN length\n').failure, 'refused');
    const missing = fail('fido2-assert: invalid PIN length\n', true);
    assert.equal(missing.failure, 'refused');
    assert.match(missing.message, /--pin-file F or BIOSEAL_PIN/);
  });

  test('anything else is unavailable and quotes the tool', () => {
    const e = fail('fido2-assert: something new\n');
    assert.equal(e.failure, 'unavailable');
    assert.match(e.message, /something new/);
  });
});
