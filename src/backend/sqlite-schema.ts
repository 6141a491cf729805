// The SQLite backend's tables. Versioned with PRAGMA user_version so a later release can migrate
// and an older release refuses a file it does not understand instead of misreading it.
import type Database from 'better-sqlite3'
import {UserError} from '../lib/errors.js'

export const SCHEMA_VERSION = 1

const SCHEMA_V1 = `
  -- Live (and not yet swept expired) items. BINARY collation: keys sort by UTF-8 bytes, like etcd.
  CREATE TABLE items (
    key      TEXT PRIMARY KEY,
    value    TEXT NOT NULL,
    expires  INTEGER,            -- ms since the epoch; NULL never expires
    revision INTEGER NOT NULL
  ) WITHOUT ROWID;
  CREATE INDEX items_expires ON items (expires) WHERE expires IS NOT NULL;

  -- One row per revision, read by watchers (also in other processes); pruned by age and count.
  CREATE TABLE changes (
    revision    INTEGER PRIMARY KEY,
    type        TEXT NOT NULL CHECK (type IN ('put', 'delete')),
    key         TEXT NOT NULL,
    value       TEXT,             -- NULL for 'delete'
    expires     INTEGER,
    recorded_at INTEGER NOT NULL  -- ms since the epoch, for pruning by age
  );
  CREATE INDEX changes_recorded_at ON changes (recorded_at);

  -- 'revision': the last revision handed out. 'compacted_through': changes up to it were pruned.
  CREATE TABLE meta (
    name  TEXT PRIMARY KEY,
    value INTEGER NOT NULL
  ) WITHOUT ROWID;
  INSERT INTO meta (name, value) VALUES ('revision', 0), ('compacted_through', 0);
`

/** Creates the tables in a new file, or checks an existing file's version. */
export function migrate(db: Database.Database, path: string): void {
  // IMMEDIATE: two processes opening a new file at once must not both create the tables.
  db.transaction(() => {
    const version = db.pragma('user_version', {simple: true}) as number
    if (version === SCHEMA_VERSION) return
    if (version > SCHEMA_VERSION) {
      throw new UserError(`${path} was written by a newer version of teleport (schema ${version}, this one knows ${SCHEMA_VERSION})`, {
        hint: 'Run the newer version, or point the data dir elsewhere.',
      })
    }
    db.exec(SCHEMA_V1)
    db.pragma(`user_version = ${SCHEMA_VERSION}`)
  }).immediate()
}
