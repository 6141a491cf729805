import {describe, test} from 'node:test'
import assert from 'node:assert/strict'
import {FakeClock} from '../../../src/lib/clock.js'
import {EventCode, EventName, MemoryAuditLog, makeEvent} from '../../../src/events/index.js'
import {auditLogConformance} from './conformance.js'

describe('MemoryAuditLog', () => {
  auditLogConformance(async () => {
    const log = new MemoryAuditLog()
    return {log, dispose: () => log.close()}
  })

  test('all() returns copies in emission order', async () => {
    const log = new MemoryAuditLog()
    const clock = new FakeClock()
    const first = makeEvent(EventName.UserCreate, EventCode.UserCreate, {name: 'bob'}, clock)
    const second = makeEvent(EventName.UserDelete, EventCode.UserDelete, {name: 'bob'}, clock)
    await log.emit(first)
    await log.emit(second)
    const all = log.all()
    assert.deepEqual(all, [first, second])
    all[0]!.name = 'mallory'
    assert.equal(log.all()[0]!.name, 'bob')
  })
})
