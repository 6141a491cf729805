// The audit log is read by auditors and shipped to SIEMs; a secret written there is a secret
// leaked for the log's whole retention. Every AuditLog passes events through redactSecrets before
// storing them, so one careless `{...request}` in a caller cannot put a password on disk.
//
// We strip (rather than refuse) so that the security event itself is still recorded: losing a
// failed-login event because it carried the attempted password would be the worse outcome.
//
// A field is dropped, at any depth (nested objects and arrays too), when its name, normalised to
// snake_case (camelCase split, '-', '.', ' ' turned into '_', lower-cased):
//   - contains `password`, `passwd`, `passphrase` or `secret`       (password_hash, totp_secret, client_secret)
//   - contains `private_key`, `privkey`, `priv_key` or `recovery_code`
//   - has a `_`-separated part equal to `otp`, `totp`, `hotp`, `cookie`, `cookies`,
//     `authorization`, `credential` or `credentials`                (otp, totp_code, set_cookie)
//   - is `token`/`tokens` or ends in `_token`/`_tokens`            (token, auth_token, join_token)
//     but NOT `token_name`, `token_type`, `token_ttl`... (these describe a token, they are not one)
// and, whatever its name, a string value holding a PEM or OpenSSH private key (`PRIVATE KEY-----`).
import {BadParameterError} from '../lib/errors.js'
import type {AuditEvent} from './event.js'

const SUBSTRINGS = ['password', 'passwd', 'passphrase', 'secret', 'private_key', 'privkey', 'priv_key', 'recovery_code']
const PARTS = new Set(['otp', 'totp', 'hotp', 'cookie', 'cookies', 'authorization', 'credential', 'credentials'])
const PRIVATE_KEY_MARKER = /PRIVATE KEY-----/

export interface Redaction {
  /** A copy of the event without secret-like fields; the caller's object is not modified. */
  event: AuditEvent
  /** Paths of the fields dropped (`password`, `details.otp`, `items[0].token`), for a warning. */
  redacted: string[]
}

export function normaliseFieldName(name: string): string {
  return name
    .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
    .replace(/[-.\s]+/g, '_')
    .toLowerCase()
}

export function isSecretFieldName(name: string): boolean {
  const normalised = normaliseFieldName(name)
  if (SUBSTRINGS.some((s) => normalised.includes(s))) return true
  const parts = normalised.split('_')
  if (parts.some((p) => PARTS.has(p))) return true
  const last = parts[parts.length - 1]
  return last === 'token' || last === 'tokens'
}

function isSecretValue(value: unknown): boolean {
  return typeof value === 'string' && PRIVATE_KEY_MARKER.test(value)
}

export function redactSecrets(event: AuditEvent): Redaction {
  const redacted: string[] = []
  const seen = new WeakSet<object>()

  const walk = (value: unknown, path: string): unknown => {
    if (Array.isArray(value)) {
      enter(value, path)
      const out: unknown[] = []
      value.forEach((item, i) => {
        const itemPath = `${path}[${i}]`
        if (isSecretValue(item)) redacted.push(itemPath)
        else out.push(walk(item, itemPath))
      })
      seen.delete(value)
      return out
    }
    if (isPlainObject(value)) {
      enter(value, path)
      const out: Record<string, unknown> = {}
      for (const [key, field] of Object.entries(value)) {
        const fieldPath = path === '' ? key : `${path}.${key}`
        if (isSecretFieldName(key) || isSecretValue(field)) redacted.push(fieldPath)
        else out[key] = walk(field, fieldPath)
      }
      seen.delete(value)
      return out
    }
    return value
  }

  // A cycle cannot be written as JSON; say so here rather than as a TypeError from stringify.
  const enter = (value: object, path: string): void => {
    if (seen.has(value)) throw new BadParameterError(`audit event has a circular reference at ${path || '(root)'}`)
    seen.add(value)
  }

  return {event: walk(event, '') as AuditEvent, redacted}
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (value === null || typeof value !== 'object') return false
  const proto = Object.getPrototypeOf(value)
  return proto === Object.prototype || proto === null
}
