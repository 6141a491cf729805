import {describe, test} from 'node:test'
import assert from 'node:assert/strict'
import {FakeClock} from '../../../src/lib/clock.js'
import {BadParameterError} from '../../../src/lib/errors.js'
import {
  EVENT_NAME_OF_CODE,
  EventCode,
  EventName,
  assertValidEvent,
  makeEvent,
  type AuditEvent,
} from '../../../src/events/index.js'

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/
const ISO_UTC_MS = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/

describe('event codes', () => {
  // REFERENCE.md's table, written out independently of src so a typo on either side fails.
  const reference: Array<[string, string, string]> = [
    ['UserLogin', 'user.login', 'T1000I'],
    ['UserLoginFailure', 'user.login', 'T1000W'],
    ['UserCreate', 'user.create', 'T1002I'],
    ['UserUpdate', 'user.update', 'T1003I'],
    ['UserDelete', 'user.delete', 'T1004I'],
    ['SessionStart', 'session.start', 'T2000I'],
    ['SessionJoin', 'session.join', 'T2001I'],
    ['Resize', 'resize', 'T2002I'],
    ['SessionLeave', 'session.leave', 'T2003I'],
    ['SessionEnd', 'session.end', 'T2004I'],
    ['SessionUpload', 'session.upload', 'T2005I'],
    ['SessionRejected', 'session.rejected', 'T1006W'],
    ['Exec', 'exec', 'T3002I'],
    ['ExecFailure', 'exec', 'T3002E'],
    ['PortForward', 'port', 'T3003I'],
    ['SCPDownload', 'scp', 'T3004I'],
    ['SCPUpload', 'scp', 'T3005I'],
    ['ClientDisconnect', 'client.disconnect', 'T3006I'],
    ['AuthAttemptFailure', 'auth', 'T3007W'],
    ['CertificateCreate', 'cert.create', 'TC000I'],
    ['RoleCreated', 'role.created', 'T9000I'],
    ['RoleDeleted', 'role.deleted', 'T9001I'],
    // Beyond the table, Teleport's own names and codes for what the next work emits.
    ['UserPasswordChange', 'user.password_change', 'T1005I'],
    ['MFADeviceAdd', 'mfa.add', 'T1006I'],
    ['ResetPasswordTokenCreate', 'reset_password_token.create', 'T6000I'],
    ['JoinTokenCreate', 'join_token.create', 'TJT00I'],
    ['InstanceJoin', 'instance.join', 'TJ002I'],
    ['InstanceJoinFailure', 'instance.join', 'TJ002E'],
    ['RoleUpdated', 'role.updated', 'T9002I'],
  ]

  for (const [key, name, code] of reference) {
    test(`${key} is ${name} ${code}`, () => {
      assert.equal((EventCode as Record<string, string>)[key], code)
      assert.equal((EVENT_NAME_OF_CODE as Record<string, string>)[code], name)
    })
  }

  test('every code maps to a known name, and codes are unique', () => {
    const names = new Set<string>(Object.values(EventName))
    const codes = Object.values(EventCode)
    assert.equal(new Set(codes).size, codes.length)
    for (const code of codes) assert.ok(names.has(EVENT_NAME_OF_CODE[code]), `${code} maps to a known name`)
    assert.deepEqual(Object.keys(EVENT_NAME_OF_CODE).sort(), [...codes].sort())
  })

  test('every code ends in a severity letter', () => {
    for (const code of Object.values(EventCode)) assert.match(code, /^T[0-9A-Z]+[IWE]$/)
  })
})

describe('makeEvent', () => {
  test('builds event, code, time from the clock, a uuid, and the given fields', () => {
    const clock = new FakeClock(Date.parse('2026-11-21T09:30:00.123Z'))
    const event = makeEvent(
      EventName.SessionStart,
      EventCode.SessionStart,
      {user: 'alice', login: 'root', sid: 'sid-1', server_id: 'host-uuid', server_hostname: 'node-1', 'addr.remote': '10.0.0.5:51234', ei: 0, size: '80:24'},
      clock,
    )
    assert.equal(event.event, 'session.start')
    assert.equal(event.code, 'T2000I')
    assert.equal(event.time, '2026-11-21T09:30:00.123Z')
    assert.match(event.time, ISO_UTC_MS)
    assert.match(event.uid, UUID)
    assert.equal(event.user, 'alice')
    assert.equal(event.login, 'root')
    assert.equal(event.sid, 'sid-1')
    assert.equal(event.server_id, 'host-uuid')
    assert.equal(event.server_hostname, 'node-1')
    assert.equal(event['addr.remote'], '10.0.0.5:51234')
    assert.equal(event.ei, 0)
    assert.equal(event.size, '80:24')
    assert.doesNotThrow(() => assertValidEvent(event))
  })

  test('time has milliseconds even on a whole second, and is UTC', () => {
    const event = makeEvent(EventName.UserLogin, EventCode.UserLogin, {}, new FakeClock(Date.UTC(2026, 0, 2, 3, 4, 5)))
    assert.equal(event.time, '2026-01-02T03:04:05.000Z')
  })

  test('uids are unique', () => {
    const clock = new FakeClock()
    const uids = new Set(Array.from({length: 1000}, () => makeEvent(EventName.Exec, EventCode.Exec, {}, clock).uid))
    assert.equal(uids.size, 1000)
  })

  test('fields cannot override the identity fields', () => {
    const clock = new FakeClock(Date.parse('2026-11-21T00:00:00.000Z'))
    const sneaky = {event: 'x', code: 'y', time: '1999-01-01T00:00:00.000Z', uid: 'fixed'} as Record<string, unknown>
    const event = makeEvent(EventName.UserLogin, EventCode.UserLoginFailure, sneaky, clock)
    assert.equal(event.event, 'user.login')
    assert.equal(event.code, 'T1000W')
    assert.equal(event.time, '2026-11-21T00:00:00.000Z')
    assert.notEqual(event.uid, 'fixed')
  })

  test('a code paired with the wrong name is refused', () => {
    assert.throws(() => makeEvent(EventName.UserLogin, EventCode.SessionStart), BadParameterError)
    assert.throws(() => makeEvent(EventName.SessionStart, EventCode.ExecFailure), BadParameterError)
  })

  test('the system clock is used when none is given', () => {
    const before = Date.now()
    const event = makeEvent(EventName.UserLogin, EventCode.UserLogin)
    const t = Date.parse(event.time)
    assert.ok(t >= before && t <= Date.now())
  })
})

describe('assertValidEvent', () => {
  const good: AuditEvent = makeEvent(EventName.UserLogin, EventCode.UserLogin, {user: 'alice'}, new FakeClock())

  for (const [why, bad] of [
    ['not an object', 'user.login'],
    ['an array', [good]],
    ['null', null],
    ['no event', {...good, event: undefined}],
    ['empty code', {...good, code: ''}],
    ['no uid', {...good, uid: undefined}],
    ['a numeric time', {...good, time: Date.now()}],
    ['time without ms', {...good, time: '2026-01-01T00:00:00Z'}],
    ['time with an offset', {...good, time: '2026-01-01T00:00:00.000+00:00'}],
    ['month 13', {...good, time: '2026-13-01T00:00:00.000Z'}],
    ['February 30', {...good, time: '2026-02-30T00:00:00.000Z'}],
    ['fractional ei', {...good, ei: 1.5}],
  ] as Array<[string, unknown]>) {
    test(`refuses ${why}`, () => {
      assert.throws(() => assertValidEvent(bad as AuditEvent), BadParameterError)
    })
  }
})
