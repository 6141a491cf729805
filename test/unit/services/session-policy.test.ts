import assert from 'node:assert/strict'
import {describe, test} from 'node:test'
import {newRole, type RoleConditionsInput} from '../../../src/services/models/role.js'
import {checkJoinSession, moderationState, type SessionParticipant} from '../../../src/services/session-policy.js'

// Who may join whose sessions (join_sessions names the OWNER's roles), and when a session of a
// user whose roles require_session_join may run (policies OR'd in a role, roles AND'd).

const role = (name: string, allow: RoleConditionsInput = {}) => newRole(name, {allow})
const access = role('access', {logins: ['root']})
const dev = role('dev-team', {logins: ['root']})
const auditor = role('auditor', {join_sessions: [{name: 'watch all', roles: ['*'], kinds: ['ssh'], modes: ['observer', 'moderator']}]})
const pairing = role('pairing', {join_sessions: [{name: 'pair with devs', roles: ['dev-*'], kinds: ['*'], modes: ['peer']}]})

describe('checkJoinSession', () => {
  test('without join_sessions a user joins only their own sessions, as peer', () => {
    assert.deepEqual(checkJoinSession({joiner: {name: 'alice', roles: [access]}, owner: {name: 'alice', roles: [access]}, mode: 'peer'}), {allowed: true})
    const other = checkJoinSession({joiner: {name: 'bob', roles: [access]}, owner: {name: 'alice', roles: [access]}, mode: 'peer'})
    assert.deepEqual(other, {allowed: false, reason: 'access denied: your roles do not allow joining sessions of "alice" as peer'})
    assert.equal(checkJoinSession({joiner: {name: 'alice', roles: [access]}, owner: {name: 'alice', roles: [access]}, mode: 'observer'}).allowed, false)
  })

  test('a policy applies to the owner\'s roles, in its modes only', () => {
    const bob = {name: 'bob', roles: [access, pairing]}
    assert.equal(checkJoinSession({joiner: bob, owner: {name: 'alice', roles: [dev]}, mode: 'peer'}).allowed, true)
    assert.equal(checkJoinSession({joiner: bob, owner: {name: 'alice', roles: [dev]}, mode: 'observer'}).allowed, false, 'mode not listed')
    assert.equal(checkJoinSession({joiner: bob, owner: {name: 'alice', roles: [access]}, mode: 'peer'}).allowed, false, 'owner lacks a dev-* role')
    const carol = {name: 'carol', roles: [auditor]}
    assert.equal(checkJoinSession({joiner: carol, owner: {name: 'alice', roles: [access]}, mode: 'moderator'}).allowed, true)
    assert.equal(checkJoinSession({joiner: carol, owner: {name: 'alice', roles: [access]}, mode: 'peer'}).allowed, false)
  })
})

describe('moderationState', () => {
  const needsAuditor = role('prod', {require_session_join: [{name: 'one auditor', filter: 'contains(user.spec.roles, "auditor")', kinds: ['ssh'], modes: ['moderator'], count: 1}]})
  const needsTwoLeads = role('critical', {
    require_session_join: [
      {name: 'two leads', filter: 'contains(user.spec.roles, "lead")', kinds: ['ssh'], modes: ['moderator', 'peer'], count: 2, on_leave: 'pause'},
      {name: 'or the cto', filter: 'equals(user.metadata.name, "cto")', kinds: ['ssh'], modes: ['moderator'], on_leave: 'pause'},
    ],
  })
  const p = (user: string, roles: string[], mode: SessionParticipant['mode']): SessionParticipant => ({user, roles, mode})

  test('a role without policies: not moderated, satisfied', () => {
    assert.deepEqual(moderationState('alice', [access], []), {moderated: false, satisfied: true, onLeave: 'pause'})
  })

  test('one required moderator: waits until one in the right mode and matching the filter is present', () => {
    const owner = [access, needsAuditor]
    assert.deepEqual(moderationState('alice', owner, [p('alice', ['access'], 'peer')]), {moderated: true, satisfied: false, onLeave: 'terminate'})
    assert.equal(moderationState('alice', owner, [p('bob', ['auditor'], 'observer')]).satisfied, false, 'an observer does not count')
    assert.equal(moderationState('alice', owner, [p('eve', ['access'], 'moderator')]).satisfied, false, 'the filter does not match')
    assert.equal(moderationState('alice', owner, [p('bob', ['auditor'], 'moderator')]).satisfied, true)
  })

  test('the owner never counts towards their own requirement', () => {
    assert.equal(moderationState('alice', [needsAuditor], [p('alice', ['auditor'], 'moderator')]).satisfied, false)
  })

  test('policies in one role are OR\'d; count counts distinct users', () => {
    const owner = [needsTwoLeads]
    assert.equal(moderationState('alice', owner, [p('l1', ['lead'], 'peer')]).satisfied, false)
    assert.equal(moderationState('alice', owner, [p('l1', ['lead'], 'peer'), p('l1', ['lead'], 'moderator')]).satisfied, false, 'one user twice')
    assert.equal(moderationState('alice', owner, [p('l1', ['lead'], 'peer'), p('l2', ['lead'], 'moderator')]).satisfied, true)
    assert.equal(moderationState('alice', owner, [p('cto', [], 'moderator')]).satisfied, true)
    assert.equal(moderationState('alice', owner, []).onLeave, 'pause')
  })

  test('across roles they are AND\'d, and one terminate wins over pause', () => {
    const owner = [needsAuditor, needsTwoLeads]
    assert.equal(moderationState('alice', owner, [p('cto', [], 'moderator')]).satisfied, false)
    const both = moderationState('alice', owner, [p('cto', [], 'moderator'), p('bob', ['auditor'], 'moderator')])
    assert.deepEqual(both, {moderated: true, satisfied: true, onLeave: 'terminate'})
  })

  test("kinds '*' covers ssh", () => {
    const k8sOnly = role('k', {require_session_join: [{name: 'x', filter: 'equals("a", "a")', kinds: ['*'], modes: ['moderator']}]})
    assert.equal(moderationState('alice', [k8sOnly], []).moderated, true)
  })
})
