/**
 * The fleet verification service's state: one interface (`FleetStore`), two
 * databases behind it (SQLite by default, PostgreSQL for a fleet), and
 * `openFleetStore` to pick one from a connection string. See docs/FLEET.md.
 */
import { UsageError } from '../../errors.js';
import type { FleetStore } from './fleet-store.js';
import { PostgresFleetStore } from './postgres-store.js';
import { SqliteFleetStore } from './sqlite-store.js';

export type {
  FleetStore,
  DeviceRecord,
  NewDevice,
  EnrolmentRecord,
  NewEnrolment,
  GalleryGroupRecord,
  NewGalleryGroup,
  PublishedModelRecord,
  NewPublishedModel,
  AuditHeadRecord,
  NewAuditHead,
  HeadOutcome,
} from './fleet-store.js';
export { MAX_TEXT_LENGTH } from './fleet-store.js';
export { SqliteFleetStore, FLEET_DB_FILE } from './sqlite-store.js';
export type { SqliteFleetStoreOptions } from './sqlite-store.js';
export { PostgresFleetStore, FLEET_DATABASE_URL_ENV, redactUrl } from './postgres-store.js';
export type { PostgresFleetStoreOptions } from './postgres-store.js';
export { FLEET_STORE_FORMAT } from './schema.js';
export { checkHeadSuccession } from './head-succession.js';

/**
 * Opens the store a database names: a `postgres://` URL connects to
 * PostgreSQL; nothing (the default) opens `$BIOSEAL_HOME/fleet.db` in SQLite;
 * `sqlite:PATH` opens another SQLite file.
 * @throws UsageError for another kind of URL; IOError, FormatError from the store.
 */
export async function openFleetStore(database: string | undefined, home?: string): Promise<FleetStore> {
  if (database === undefined || database === '') return SqliteFleetStore.open({ home });
  if (/^postgres(ql)?:\/\//.test(database)) return PostgresFleetStore.connect({ url: database });
  if (database.startsWith('sqlite:') && database.length > 'sqlite:'.length) return SqliteFleetStore.open({ file: database.slice('sqlite:'.length) });
  throw new UsageError('the fleet database must be a postgres:// URL or sqlite:PATH (default: $BIOSEAL_HOME/fleet.db)');
}
