// Every SQL statement the SQLite backend runs, prepared once per connection.
import type Database from 'better-sqlite3'

export interface ItemRow {
  key: string
  value: string
  expires: number | null
  revision: number
}

export interface ChangeRow {
  revision: number
  type: 'put' | 'delete'
  key: string
  value: string | null
  expires: number | null
}

export function prepareStatements(db: Database.Database) {
  const live = '(expires IS NULL OR expires > ?)'
  // Bound as `CAST(? AS TEXT)` with a Buffer: the prefix's bytes plus 0xFF, see prefixUpperBound.
  const inRange = 'key >= ? AND key < CAST(? AS TEXT)'
  return {
    liveItem: db.prepare<[string, number], ItemRow>(`SELECT key, value, expires, revision FROM items WHERE key = ? AND ${live}`),
    exists: db.prepare<[string], number>('SELECT 1 FROM items WHERE key = ?').pluck(),
    liveRange: db.prepare<[string, Buffer, number, number], ItemRow>(
      `SELECT key, value, expires, revision FROM items WHERE ${inRange} AND ${live} ORDER BY key LIMIT ?`,
    ),
    anyRange: db.prepare<[string, Buffer], ItemRow>(`SELECT key, value, expires, revision FROM items WHERE ${inRange} ORDER BY key`),
    expiredKeys: db
      .prepare<[number, number], string>('SELECT key FROM items WHERE expires <= ? ORDER BY expires, key LIMIT ?')
      .pluck(),
    upsert: db.prepare<[string, string, number | null, number]>(
      `INSERT INTO items (key, value, expires, revision) VALUES (?, ?, ?, ?)
       ON CONFLICT (key) DO UPDATE SET value = excluded.value, expires = excluded.expires, revision = excluded.revision`,
    ),
    deleteItem: db.prepare<[string]>('DELETE FROM items WHERE key = ?'),
    nextRevision: db.prepare<[], number>("UPDATE meta SET value = value + 1 WHERE name = 'revision' RETURNING value").pluck(),
    getMeta: db.prepare<[string], number>('SELECT value FROM meta WHERE name = ?').pluck(),
    setMeta: db.prepare<[number, string]>('UPDATE meta SET value = ? WHERE name = ?'),
    logChange: db.prepare<[number, 'put' | 'delete', string, string | null, number | null, number]>(
      'INSERT INTO changes (revision, type, key, value, expires, recorded_at) VALUES (?, ?, ?, ?, ?, ?)',
    ),
    changesAfter: db.prepare<[number, number], ChangeRow>(
      'SELECT revision, type, key, value, expires FROM changes WHERE revision > ? ORDER BY revision LIMIT ?',
    ),
    lastRevisionRecordedBefore: db
      .prepare<[number], number | null>('SELECT MAX(revision) FROM changes WHERE recorded_at < ?')
      .pluck(),
    deleteChangesThrough: db.prepare<[number]>('DELETE FROM changes WHERE revision <= ?'),
  }
}

/**
 * The smallest string above every key that starts with `prefix`, in SQLite's byte order: the
 * prefix's UTF-8 bytes followed by 0xFF, a byte that never occurs in UTF-8. A range scan over
 * [prefix, bound) then uses the primary key and never matches "/usersx" for "/users/".
 */
export function prefixUpperBound(prefix: string): Buffer {
  return Buffer.concat([Buffer.from(prefix, 'utf8'), Buffer.from([0xff])])
}

export type Statements = ReturnType<typeof prepareStatements>
