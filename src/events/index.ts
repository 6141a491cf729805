// The audit log: event names and codes, the event shape, the AuditLog seam and its two
// implementations (the file log users run, the memory twin tests use).
export * from './codes.js'
export * from './event.js'
export * from './emitter.js'
export {redactSecrets, isSecretFieldName, normaliseFieldName, type Redaction} from './secrets-guard.js'
export {FileAuditLog, type FileAuditLogOptions} from './file-log.js'
export {MemoryAuditLog} from './memory-log.js'
