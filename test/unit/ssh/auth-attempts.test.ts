import assert from 'node:assert/strict'
import {describe, test} from 'node:test'
import {AuthAttempts, type AuthRefusal} from '../../../src/ssh/auth-attempts.js'

// What a node or proxy audits of a connection's refused authentication attempts.

const plainKey: AuthRefusal = {user: '', login: 'root', error: 'a plain ssh-ed25519 key was offered', cert: false}
const expired: AuthRefusal = {user: 'alice', login: 'root', error: 'the certificate expired', cert: true}

function attempts(): {log: AuthAttempts; audited: AuthRefusal[]} {
  const audited: AuthRefusal[] = []
  return {log: new AuthAttempts((r) => audited.push(r)), audited}
}

describe('audited authentication attempts', () => {
  test('an agent\'s plain key refused before its certificate logs in: nothing audited', () => {
    const {log, audited} = attempts()
    log.otherMethodRefused('none', 'root')
    log.queryRefused(plainKey)
    log.succeeded()
    log.closed()
    assert.deepEqual(audited, [])
  })

  test('a connection that ends unauthenticated: one event, with the certificate\'s reason', () => {
    const {log, audited} = attempts()
    log.otherMethodRefused('none', 'root')
    log.queryRefused(expired)
    log.queryRefused(plainKey)
    log.closed()
    assert.deepEqual(audited, [expired])
  })

  test('only "none" and plain keys: the last of them', () => {
    const {log, audited} = attempts()
    log.otherMethodRefused('none', 'root')
    log.closed()
    assert.equal(audited.length, 1)
    assert.deepEqual({...audited[0], error: ''}, {user: '', login: 'root', error: '', cert: false})
    assert.match(audited[0]!.error, /"none"/)
    const second = attempts()
    second.log.otherMethodRefused('none', 'root')
    second.log.queryRefused(plainKey)
    second.log.closed()
    assert.deepEqual(second.audited, [plainKey])
  })

  test('a refused signed attempt is audited at once, and the end adds nothing', () => {
    const {log, audited} = attempts()
    const denied = {user: 'alice', login: 'nobody', error: 'no role allows the login "nobody"', cert: true}
    log.signedRefused(denied)
    assert.deepEqual(audited, [denied])
    log.closed()
    assert.deepEqual(audited, [denied])
  })

  test('password and keyboard-interactive: the first attempt audited, saying which method', () => {
    const {log, audited} = attempts()
    log.otherMethodRefused('password', 'root')
    log.otherMethodRefused('password', 'root')
    log.otherMethodRefused('keyboard-interactive', 'root')
    log.closed()
    assert.equal(audited.length, 1)
    assert.match(audited[0]!.error, /"password" method is not accepted/)
    assert.equal(audited[0]!.login, 'root')
  })

  test('nothing tried, nothing audited', () => {
    const {log, audited} = attempts()
    log.closed()
    assert.deepEqual(audited, [])
  })
})
