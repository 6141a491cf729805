import assert from 'node:assert/strict'
import {test} from 'node:test'
import type {SessionTracker} from '../../../../src/api/auth-api.js'
import {openSessionCounts} from '../../../../src/client/sessions/counts.js'
import {AccessDeniedError, UserError} from '../../../../src/lib/errors.js'

// `tsh ls -v`'s session counts: per node, and nothing (an empty column) when the user may not see sessions.

const on = (hostId: string) => ({hostId}) as SessionTracker

test('counts the sessions of each node by host id', async () => {
  const counts = await openSessionCounts({listSessionTrackers: async () => [on('a'), on('b'), on('a')]})
  assert.deepEqual([...counts!], [['a', 2], ['b', 1]])
})

test('a session a recording proxy holds counts on the node it names (serverId), not on the proxy', async () => {
  const held = {hostId: 'proxy-1', serverId: 'sshd-1'} as SessionTracker
  const counts = await openSessionCounts({listSessionTrackers: async () => [held, on('a')]})
  assert.deepEqual([...counts!], [['sshd-1', 1], ['a', 1]])
})

test('a refusal gives no counts; any other failure is the command\'s', async () => {
  assert.equal(await openSessionCounts({listSessionTrackers: () => Promise.reject(new AccessDeniedError('access denied to perform action "list" on "session"'))}), undefined)
  await assert.rejects(openSessionCounts({listSessionTrackers: () => Promise.reject(new UserError('cannot reach the auth server'))}), /cannot reach/)
})
