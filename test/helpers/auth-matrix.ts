import assert from 'node:assert/strict'
import type {AuditEvent} from '../../src/events/index.js'
import type {AuditLogReader} from './audit-log.js'
import type {Attempt} from './auth-attempts.js'

// The rows of a negative-authentication matrix and how one is checked: the attempt must be
// refused, the client told why, and the audit log must gain the event naming who, as whom and why.

export interface ExpectedEvent {
  /** `event` and `code` of the audit event. */
  event: string
  code: string
  /** A string that is in the event (any field): picks this row's event among others. */
  tag: string
  /** Fields the event must have, exactly (strings, booleans) or matching (RegExp). */
  fields: Record<string, string | boolean | RegExp>
}

export interface MatrixRow {
  name: string
  attempt: () => Promise<Attempt>
  /** What the refused client is told. */
  told: RegExp
  audit?: ExpectedEvent
  /** Why no audit event can exist (the attempt never reaches a server that could write one). */
  noAudit?: string
  /** Checked once the attempt is refused and audited. */
  after?: () => Promise<void> | void
  /** A defence not built yet, or a finding: the row runs and reports but does not fail the suite. */
  todo?: string | false
}

/** A refused authentication or authorization (`auth`, T3007W). */
export function authFailure(tag: string, fields: ExpectedEvent['fields']): ExpectedEvent {
  return {event: 'auth', code: 'T3007W', tag, fields}
}

/** Runs one row; `waitMs` bounds the wait for its audit event (daemons write it after answering). */
export async function checkRow(row: MatrixRow, audit: AuditLogReader, waitMs: number): Promise<void> {
  const mark = audit.mark()
  const result = await row.attempt()
  assert.equal(result.refused, true, `not refused: ${result.detail}`)
  assert.match(result.detail, row.told)
  if (row.audit) await expectAudit(audit, mark, row.audit, waitMs)
  else assert.ok(row.noAudit, 'a row names its audit event or says why there is none')
  await row.after?.()
}

async function expectAudit(audit: AuditLogReader, mark: number, expected: ExpectedEvent, waitMs: number): Promise<void> {
  const wanted = (e: AuditEvent) => e.event === expected.event && e.code === expected.code && JSON.stringify(e).includes(expected.tag)
  const {found, events} = await audit.waitFor(mark, wanted, waitMs)
  assert.ok(found, `no ${expected.event} ${expected.code} event mentioning "${expected.tag}"; logged since the attempt:\n${events.map((e) => JSON.stringify(e)).join('\n')}`)
  for (const [field, value] of Object.entries(expected.fields)) {
    if (value instanceof RegExp) assert.match(String(found[field] ?? ''), value, `${field} of ${JSON.stringify(found)}`)
    else assert.equal(found[field], value, `${field} of ${JSON.stringify(found)}`)
  }
}
