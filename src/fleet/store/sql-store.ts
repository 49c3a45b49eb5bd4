/**
 * The fleet store's logic, written once over `SqlDriver`: the statements,
 * the checks on what goes in, the translation of broken constraints into
 * typed errors, and the rules that need more than one statement (a model
 * version never below the last, audit heads that only grow), each inside
 * a transaction with the lock that serialises concurrent writers.
 *
 * `SqliteFleetStore` and `PostgresFleetStore` are this class over their
 * drivers.
 */
import { BiosealError, ExistsError, RollbackError, UsageError } from '../../errors.js';
import {
  checkBytes,
  checkInteger,
  checkText,
  type AuditHeadRecord,
  type DeviceRecord,
  type EnrolmentRecord,
  type FleetStore,
  type GalleryGroupRecord,
  type HeadOutcome,
  type NewAuditHead,
  type NewDevice,
  type NewEnrolment,
  type NewGalleryGroup,
  type NewPublishedModel,
  type PublishedModelRecord,
} from './fleet-store.js';
import { checkHeadSuccession } from './head-succession.js';
import { auditHeadFromRow, deviceFromRow, evaluationKeysFromRow, enrolmentFromRow, galleryGroupFromRow, modelFromRow } from './rows.js';
import type { SqlDriver, SqlSession, SqlValue } from './sql-driver.js';

const SHA256_HEX = /^[0-9a-f]{64}$/;
/** A device's record without its evaluation keys. */
const DEVICE_COLUMNS = 'id, public_key, fingerprint, registered_at, revoked_at';
const HASH_BYTES = 32;

export class SqlFleetStore implements FleetStore {
  readonly backend: 'sqlite' | 'postgres';

  /**
   * @param session the driver itself, or the session of a transaction in progress
   * @param inTransaction whether `session` is a transaction's (nested work joins it)
   */
  protected constructor(
    private readonly driver: SqlDriver,
    private readonly session: SqlSession,
    private readonly inTransaction: boolean,
    private readonly clock: () => number = Date.now,
  ) {
    this.backend = driver.backend;
  }

  async registerDevice(device: NewDevice): Promise<DeviceRecord> {
    const id = checkText(device.id, 'device id');
    const evaluationKeys = checkBytes(device.evaluationKeys, 'evaluation keys');
    const row: DeviceRecord = {
      id,
      publicKey: checkBytes(device.publicKey, 'device public key', 32),
      fingerprint: checkBytes(device.fingerprint, 'parameter fingerprint', HASH_BYTES),
      registeredAt: this.clock(),
      revokedAt: null,
    };
    await this.write(
      'INSERT INTO devices (id, public_key, evaluation_keys, fingerprint, registered_at) VALUES ($1, $2, $3, $4, $5)',
      [row.id, row.publicKey, evaluationKeys, row.fingerprint, row.registeredAt],
      { unique: () => new ExistsError(`device "${id}" or its public key is already registered`) },
    );
    return row;
  }

  async getDevice(id: string): Promise<DeviceRecord | undefined> {
    const [row] = await this.read(`SELECT ${DEVICE_COLUMNS} FROM devices WHERE id = $1`, [checkText(id, 'device id')]);
    return row && deviceFromRow(row);
  }

  async getEvaluationKeys(id: string): Promise<Uint8Array | undefined> {
    const [row] = await this.read('SELECT evaluation_keys FROM devices WHERE id = $1', [checkText(id, 'device id')]);
    return row && evaluationKeysFromRow(row);
  }

  async listDevices(): Promise<DeviceRecord[]> {
    return (await this.read(`SELECT ${DEVICE_COLUMNS} FROM devices ORDER BY seq`, [])).map(deviceFromRow);
  }

  async revokeDevice(id: string): Promise<boolean> {
    const changed = await this.write('UPDATE devices SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL', [this.clock(), checkText(id, 'device id')]);
    return changed === 1;
  }

  async addEnrolment(enrolment: NewEnrolment): Promise<EnrolmentRecord> {
    const record = {
      deviceId: checkText(enrolment.deviceId, 'device id'),
      person: checkText(enrolment.person, 'person'),
      template: checkBytes(enrolment.template, 'template'),
      fingerprint: checkBytes(enrolment.fingerprint, 'parameter fingerprint', HASH_BYTES),
      createdAt: this.clock(),
    };
    await this.write(
      'INSERT INTO enrolments (device_id, person, template, fingerprint, created_at) VALUES ($1, $2, $3, $4, $5)',
      [record.deviceId, record.person, record.template, record.fingerprint, record.createdAt],
      {
        unique: () => new ExistsError(`device "${record.deviceId}" already has an enrolment for "${record.person}"`),
        foreignKey: () => new UsageError(`no device "${record.deviceId}" is registered`),
      },
    );
    return record;
  }

  async getEnrolment(deviceId: string, person: string): Promise<EnrolmentRecord | undefined> {
    const [row] = await this.read('SELECT * FROM enrolments WHERE device_id = $1 AND person = $2', [checkText(deviceId, 'device id'), checkText(person, 'person')]);
    return row && enrolmentFromRow(row);
  }

  async listEnrolments(deviceId: string): Promise<EnrolmentRecord[]> {
    return (await this.read('SELECT * FROM enrolments WHERE device_id = $1 ORDER BY person', [checkText(deviceId, 'device id')])).map(enrolmentFromRow);
  }

  async removeEnrolment(deviceId: string, person: string): Promise<boolean> {
    return (await this.write('DELETE FROM enrolments WHERE device_id = $1 AND person = $2', [checkText(deviceId, 'device id'), checkText(person, 'person')])) === 1;
  }

  async addGalleryGroup(group: NewGalleryGroup): Promise<GalleryGroupRecord> {
    const holderId = checkText(group.holderId, 'key holder id');
    const enrolledBy = checkText(group.enrolledBy, 'device id');
    if (!Array.isArray(group.labels) || group.labels.length === 0) throw new UsageError('a gallery group needs at least one label');
    const labels = group.labels.map((l, i) => checkText(l, `label ${i + 1}`));
    const bytes = checkBytes(group.group, 'gallery group');
    const fingerprint = checkBytes(group.fingerprint, 'parameter fingerprint', HASH_BYTES);
    const createdAt = this.clock();
    const [row] = await this.write(
      'INSERT INTO gallery_groups (holder_id, enrolled_by, labels, group_bytes, fingerprint, created_at) VALUES ($1, $2, $3, $4, $5, $6) RETURNING *',
      [holderId, enrolledBy, JSON.stringify(labels), bytes, fingerprint, createdAt],
      { foreignKey: () => new UsageError(`no device "${holderId}" or "${enrolledBy}" is registered`) },
      true,
    );
    return galleryGroupFromRow(row!);
  }

  async listGalleryGroups(holderId: string): Promise<GalleryGroupRecord[]> {
    return (await this.read('SELECT * FROM gallery_groups WHERE holder_id = $1 ORDER BY seq', [checkText(holderId, 'key holder id')])).map(galleryGroupFromRow);
  }

  async publishModel(model: NewPublishedModel): Promise<PublishedModelRecord> {
    const name = checkText(model.name, 'model name');
    const version = checkInteger(model.version, 'model version', 1);
    const manifest = checkBytes(model.manifest, 'manifest');
    if (typeof model.digest !== 'string' || !SHA256_HEX.test(model.digest)) throw new UsageError('model digest must be 64 lower-case hex digits');
    return this.transaction(async (tx) => {
      const self = tx as SqlFleetStore;
      // Serialises publishers of one name, so two releases cannot both pass the version check.
      await self.driver.lock(self.session, 'fleet-model', name);
      const latest = await self.latestModel(name);
      if (latest !== undefined && latest.version === version) throw new ExistsError(`version ${version} of model "${name}" is already published`);
      if (latest !== undefined && latest.version > version) {
        throw new RollbackError(`model "${name}" is already published at version ${latest.version}; refusing version ${version}`);
      }
      // Read under the lock, and never before the release it follows: publication times are in version order.
      const record: PublishedModelRecord = { name, version, manifest, digest: model.digest, publishedAt: Math.max(this.clock(), latest?.publishedAt ?? 0) };
      await self.write(
        'INSERT INTO models (name, version, manifest, digest, published_at) VALUES ($1, $2, $3, $4, $5)',
        [name, version, manifest, record.digest, record.publishedAt],
        { unique: () => new ExistsError(`version ${version} of model "${name}" is already published`) },
      );
      return record;
    });
  }

  async latestModel(name: string): Promise<PublishedModelRecord | undefined> {
    const [row] = await this.read('SELECT * FROM models WHERE name = $1 ORDER BY version DESC LIMIT 1', [checkText(name, 'model name')]);
    return row && modelFromRow(row);
  }

  async listModels(name: string): Promise<PublishedModelRecord[]> {
    return (await this.read('SELECT * FROM models WHERE name = $1 ORDER BY version', [checkText(name, 'model name')])).map(modelFromRow);
  }

  async recordAuditHead(head: NewAuditHead, consistencyProof: readonly Uint8Array[]): Promise<HeadOutcome> {
    const next: NewAuditHead = {
      deviceId: checkText(head.deviceId, 'device id'),
      size: checkInteger(head.size, 'tree size'),
      root: checkBytes(head.root, 'tree root', HASH_BYTES),
      timestamp: checkInteger(head.timestamp, 'tree head timestamp'),
      keyId: checkBytes(head.keyId, 'log key id', HASH_BYTES),
      signature: checkBytes(head.signature, 'tree head signature', 64),
    };
    return this.transaction(async (tx) => {
      const self = tx as SqlFleetStore;
      // One device's heads are checked and stored one at a time.
      await self.driver.lock(self.session, 'fleet-audit-head', next.deviceId);
      const outcome = checkHeadSuccession(await self.latestAuditHead(next.deviceId), next, consistencyProof);
      if (outcome === 'recorded') {
        await self.write(
          'INSERT INTO audit_heads (device_id, size, root, timestamp, key_id, signature, received_at) VALUES ($1, $2, $3, $4, $5, $6, $7)',
          [next.deviceId, next.size, next.root, next.timestamp, next.keyId, next.signature, self.clock()],
          { foreignKey: () => new UsageError(`no device "${next.deviceId}" is registered`) },
        );
      }
      return outcome;
    });
  }

  async latestAuditHead(deviceId: string): Promise<AuditHeadRecord | undefined> {
    const [row] = await this.read('SELECT * FROM audit_heads WHERE device_id = $1 ORDER BY size DESC LIMIT 1', [checkText(deviceId, 'device id')]);
    return row && auditHeadFromRow(row);
  }

  async claimNonce(deviceId: string, nonce: string, now: number, expiresAt: number): Promise<boolean> {
    checkText(deviceId, 'device id');
    checkText(nonce, 'nonce');
    checkInteger(now, 'time');
    checkInteger(expiresAt, 'nonce expiry');
    return this.transaction(async (tx) => {
      const self = tx as SqlFleetStore;
      await self.write('DELETE FROM nonces WHERE expires_at < $1', [now]);
      const added = await self.write('INSERT INTO nonces (device_id, nonce, expires_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING', [deviceId, nonce, expiresAt]);
      return added === 1;
    });
  }

  async transaction<T>(work: (store: FleetStore) => Promise<T>): Promise<T> {
    if (this.inTransaction) return work(this);
    try {
      return await this.driver.transaction((session) => work(new SqlFleetStore(this.driver, session, true, this.clock)));
    } catch (error) {
      throw this.typed(error);
    }
  }

  async close(): Promise<void> {
    if (this.inTransaction) throw new UsageError('close the store, not a transaction');
    await this.driver.close();
  }

  private async read(sql: string, params: readonly SqlValue[]) {
    try {
      return await this.session.query(sql, params);
    } catch (error) {
      throw this.typed(error);
    }
  }

  /** Runs a write; a broken constraint becomes the error its handler makes. Returns rows with `returning`, else the change count. */
  private write(sql: string, params: readonly SqlValue[], on?: ConstraintHandlers): Promise<number>;
  private write(sql: string, params: readonly SqlValue[], on: ConstraintHandlers, returning: true): Promise<Awaited<ReturnType<SqlSession['query']>>>;
  private async write(sql: string, params: readonly SqlValue[], on: ConstraintHandlers = {}, returning = false) {
    try {
      return returning ? await this.session.query(sql, params) : await this.session.run(sql, params);
    } catch (error) {
      const kind = this.driver.constraintOf(error);
      if (kind === 'unique' && on.unique) throw on.unique();
      if (kind === 'foreign-key' && on.foreignKey) throw on.foreignKey();
      throw this.typed(error);
    }
  }

  private typed(error: unknown): Error {
    return error instanceof BiosealError ? error : this.driver.describe(error);
  }
}

interface ConstraintHandlers {
  readonly unique?: () => Error;
  readonly foreignKey?: () => Error;
}
