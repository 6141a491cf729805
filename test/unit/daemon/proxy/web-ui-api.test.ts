import assert from 'node:assert/strict'
import {describe, test} from 'node:test'
import {allowedLogins, joinModes, webRecording} from '../../../../src/daemon/proxy/web-ui-api.js'
import type {AuditEvent} from '../../../../src/events/index.js'
import {newRole} from '../../../../src/services/models/role.js'

// What the UI's API offers the page, from the same rules the node and auth apply: the logins
// for a node's Connect menu, the modes a live session can be joined in, and a recording's row.

const dev = newRole('dev', {allow: {logins: ['{{internal.logins}}', 'deploy'], node_labels: {env: ['dev', 'staging']}}})
const prodReader = newRole('prod-reader', {allow: {logins: ['reader'], node_labels: {env: ['prod']}}, deny: {logins: ['deploy']}})
const watcher = newRole('watcher', {allow: {join_sessions: [{name: 'watch dev', roles: ['dev'], kinds: ['ssh'], modes: ['observer', 'moderator']}]}})

describe('web UI offers', () => {
  test('logins: per node, what some role allows there with the labels, minus any role\'s deny', () => {
    const access = {roles: [dev], traits: {logins: ['alice', 'bad login']}}
    assert.deepEqual(allowedLogins(access, {env: 'dev'}), ['alice', 'deploy'])
    assert.deepEqual(allowedLogins(access, {env: 'prod'}), [])
    const both = {roles: [dev, prodReader], traits: {logins: ['alice']}}
    assert.deepEqual(allowedLogins(both, {env: 'dev'}), ['alice'], 'deploy is denied by prod-reader everywhere')
    assert.deepEqual(allowedLogins(both, {env: 'prod'}), ['reader'])
  })

  test('join modes: own sessions as peer; others\' by join_sessions against the owner\'s roles', () => {
    assert.deepEqual(joinModes('alice', [dev], 'alice', [dev]), ['peer'])
    assert.deepEqual(joinModes('wendy', [dev, watcher], 'alice', [dev]), ['observer', 'moderator'])
    assert.deepEqual(joinModes('wendy', [dev, watcher], 'pat', [prodReader]), [])
    // The owner's roles unreadable: every mode a policy names (the node decides).
    assert.deepEqual(joinModes('wendy', [watcher], 'pat', undefined), ['observer', 'moderator'])
    assert.deepEqual(joinModes('alice', [dev], 'alice', undefined), ['peer'])
  })

  test('a recording row from its session.end event', () => {
    const end = {
      event: 'session.end', code: 'T2004I', time: '2026-03-01T10:05:00.000Z', uid: 'u', sid: 'a1b2', user: 'alice', login: 'root',
      server_id: 'host-1', server_hostname: 'node-1', participants: ['alice', 'bob'], interactive: true,
      session_start: '2026-03-01T10:00:00.000Z', session_stop: '2026-03-01T10:05:00.000Z',
    } as AuditEvent
    assert.deepEqual(webRecording(end), {
      sid: 'a1b2', user: 'alice', login: 'root', hostname: 'node-1', server_id: 'host-1', created: '2026-03-01T10:00:00.000Z',
      duration_ms: 300_000, participants: ['alice', 'bob'], interactive: true,
    })
  })
})
