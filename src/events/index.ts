// Audit events: names and codes, the event shape, the Emitter seam and its implementations (the
// file log users run, the memory twin tests use, the buffer daemons put in front of auth).
export * from './codes.js'
export * from './event.js'
export * from './emitter.js'
export {redactSecrets, isSecretFieldName, normaliseFieldName, type Redaction} from './secrets-guard.js'
export {FileAuditLog, type FileAuditLogOptions} from './file-log.js'
export {MemoryAuditLog} from './memory-log.js'
export {BufferedEmitter, type BufferedEmitterOptions} from './buffered-emitter.js'
export {EventJournal, type JournalEvent} from './event-journal.js'
export {pageOf} from './search-query.js'
