import path from 'node:path'

// Where things live in a data dir (`teleport.data_dir`, default /var/lib/teleport).
// The daemon writes them; tctl on the auth host reads the admin identity from here.

export const DEFAULT_DATA_DIR = '/var/lib/teleport'

export function dataDirPaths(dataDir: string) {
  return {
    root: dataDir,
    /** SQLite backend of the auth service. */
    backend: path.join(dataDir, 'backend.db'),
    /** Audit log, one JSON-lines file per UTC day. */
    log: path.join(dataDir, 'log'),
    /** A node's or a proxy's audit events not yet delivered to auth (JSON lines). */
    auditJournal: (service: 'node' | 'proxy') => path.join(dataDir, 'log', 'upload', 'events', `${service}.jsonl`),
    /** Markers of the sessions running on a node, for their session.end after a crash. */
    openSessions: path.join(dataDir, 'log', 'upload', 'sessions'),
    /** A node's session recordings: written here as sessions run, deleted once auth has them. */
    recordingsToUpload: path.join(dataDir, 'log', 'upload', 'recordings'),
    /** A recording proxy's markers of the sessions it runs (as a node's, kept apart: one process may be both). */
    proxyOpenSessions: path.join(dataDir, 'log', 'upload', 'proxy', 'sessions'),
    /** A recording proxy's session recordings waiting for upload. */
    proxyRecordingsToUpload: path.join(dataDir, 'log', 'upload', 'proxy', 'recordings'),
    /** Local recordings the uploader could not read, moved aside (never deleted). */
    corruptedRecordings: path.join(dataDir, 'log', 'upload', 'corrupted'),
    /** This host's UUID, made on first start. */
    hostUuid: path.join(dataDir, 'host_uuid'),
    /** tctl's admin identity (host certificate with role Admin), written by the auth service. */
    adminIdentity: path.join(dataDir, 'keys', 'admin.identity'),
    /** A service's own host identity: auth, node or proxy. */
    hostIdentity: (role: 'auth' | 'node' | 'proxy') => path.join(dataDir, 'keys', `${role}.identity`),
  }
}
