import {describe, test} from 'node:test'
import assert from 'node:assert/strict'
import {EventCode, EventName, makeEvent, type EventFields} from '../../../src/events/index.js'
import {sessionParties} from '../../../src/services/session-parties.js'

// Who took part in a session, from its audit events: what RBAC's session conditions look at.

const sid = '11111111-2222-4333-8444-555555555555'
const start = (fields: EventFields) => makeEvent(EventName.SessionStart, EventCode.SessionStart, {sid, ...fields})
const join = (fields: EventFields) => makeEvent(EventName.SessionJoin, EventCode.SessionJoin, {sid, ...fields})
const end = (fields: EventFields) => makeEvent(EventName.SessionEnd, EventCode.SessionEnd, {sid, ...fields})

describe('sessionParties', () => {
  test("session.end's participants and user win over starts and joins", () => {
    assert.deepEqual(sessionParties([start({user: 'bob'}), join({user: 'eve'}), end({user: 'bob', participants: ['bob', 'amy']})]), {participants: ['bob', 'amy'], user: 'bob'})
  })

  test('a session still running: its starter and joiners, each once, the starter as user', () => {
    assert.deepEqual(sessionParties([start({user: 'bob'}), join({user: 'amy'}), join({user: 'bob'})]), {participants: ['bob', 'amy'], user: 'bob'})
    assert.deepEqual(sessionParties([join({user: 'amy'})]), {participants: ['amy'], user: ''}, 'start lost: nobody started it as far as the log says')
  })

  test('malformed participants are dropped, not trusted; no events: undefined', () => {
    assert.deepEqual(sessionParties([end({participants: ['amy', 7, null]})]), {participants: ['amy'], user: 'amy'})
    assert.deepEqual(sessionParties([end({user: 'bob', participants: 'amy'})]), {participants: [], user: 'bob'})
    assert.equal(sessionParties([]), undefined)
    assert.equal(sessionParties([makeEvent(EventName.SessionLeave, EventCode.SessionLeave, {sid, user: 'amy'})]), undefined)
  })
})
