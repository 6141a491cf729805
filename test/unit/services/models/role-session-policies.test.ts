import assert from 'node:assert/strict'
import {describe, test} from 'node:test'
import {BadParameterError} from '../../../../src/lib/errors.js'
import {parseResources} from '../../../../src/services/models/resource.js'
import {validateRole} from '../../../../src/services/models/role.js'
import {planCreate} from '../../../../src/tctl/resources.js'

// The live-session policies of a role: join_sessions and require_session_join, as `tctl create`
// reads them (YAML), and the mistakes refused with the role, the field and the filter column.

const MODERATED = `
kind: role
version: v5
metadata: {name: prod-access}
spec:
  allow:
    logins: [root]
    require_session_join:
      - name: auditor oversight
        filter: 'contains(user.spec.roles, "auditor")'
        kinds: [ssh]
        modes: [moderator]
        count: 1
        on_leave: pause
    join_sessions:
      - name: peers
        roles: [access, 'dev-*']
        kinds: ['*']
        modes: [observer, peer]
`

function refused(spec: unknown, message: string | RegExp): void {
  assert.throws(() => validateRole({kind: 'role', version: 'v5', metadata: {name: 'x'}, spec}), (err: Error) => {
    assert.ok(err instanceof BadParameterError, String(err))
    if (typeof message === 'string') assert.equal(err.message, message)
    else assert.match(err.message, message)
    return true
  })
}

const join = (policy: Record<string, unknown>) => ({allow: {join_sessions: [{name: 'j', roles: ['access'], kinds: ['ssh'], modes: ['observer'], ...policy}]}})
const require = (policy: Record<string, unknown>) => ({allow: {require_session_join: [{name: 'r', filter: 'contains(user.spec.roles, "auditor")', kinds: ['ssh'], modes: ['moderator'], ...policy}]}})

describe('role session policies', () => {
  test('both policies are read from YAML as written', () => {
    const role = validateRole(parseResources(MODERATED)[0])
    assert.deepEqual(role.spec.allow.require_session_join, [
      {name: 'auditor oversight', filter: 'contains(user.spec.roles, "auditor")', kinds: ['ssh'], modes: ['moderator'], count: 1, on_leave: 'pause'},
    ])
    assert.deepEqual(role.spec.allow.join_sessions, [{name: 'peers', roles: ['access', 'dev-*'], kinds: ['*'], modes: ['observer', 'peer']}])
  })

  test('count defaults to 1 and on_leave to terminate; a role without policies carries none', () => {
    const role = validateRole({kind: 'role', version: 'v5', metadata: {name: 'x'}, spec: require({})})
    assert.equal(role.spec.allow.require_session_join?.[0]?.count, 1)
    assert.equal(role.spec.allow.require_session_join?.[0]?.on_leave, 'terminate')
    const plain = validateRole({kind: 'role', version: 'v5', metadata: {name: 'x'}, spec: {allow: {logins: ['root']}}})
    assert.equal(plain.spec.allow.join_sessions, undefined)
    assert.equal(plain.spec.allow.require_session_join, undefined)
  })

  test('an unknown mode or kind is refused, naming the role and the field', () => {
    refused(join({modes: ['observer', 'spy']}), 'role "x": spec.allow.join_sessions[0].modes: unknown participant mode "spy"; expected observer, peer, moderator')
    refused(require({modes: ['watcher']}), /^role "x": spec\.allow\.require_session_join\[0\]\.modes: unknown participant mode "watcher"/)
    refused(join({kinds: ['k8s']}), 'role "x": spec.allow.join_sessions[0].kinds: unknown session kind "k8s"; expected ssh or \'*\'')
  })

  test('a filter that does not parse is refused with its column', () => {
    refused(require({filter: 'contains(user.spec.roles, "auditor"'}), 'role "x": spec.allow.require_session_join[0].filter: invalid filter "contains(user.spec.roles, \\"auditor\\"": expected ")" before the end (column 36)')
    refused(require({filter: 'has(user.spec.roles, "a")'}), /filter: invalid filter .*unknown function "has".*\(column 1\)$/)
  })

  test('a filter over session fields is refused: it is about the joining user', () => {
    refused(require({filter: 'equals(session.user, "alice")'}), /require_session_join\[0\]\.filter: invalid filter .*only the joining user's fields/)
  })

  test('missing names, roles and modes, bad count and on_leave, unknown fields', () => {
    refused(join({name: ''}), 'role "x": spec.allow.join_sessions[0].name: expected a name for the policy')
    refused(join({roles: []}), 'role "x": spec.allow.join_sessions[0].roles: expected a non-empty list of strings')
    refused(join({modes: undefined}), 'role "x": spec.allow.join_sessions[0].modes: expected a non-empty list of strings')
    refused(require({count: 0}), 'role "x": spec.allow.require_session_join[0].count: expected a whole number from 1 to 100, got 0')
    refused(require({count: 1.5}), /count: expected a whole number/)
    refused(require({on_leave: 'explode'}), 'role "x": spec.allow.require_session_join[0].on_leave: expected one of terminate, pause, got "explode"')
    refused(join({invite: true}), 'role "x": spec.allow.join_sessions[0].invite: unknown field; supported fields are name, roles, kinds, modes')
    refused({allow: {join_sessions: {name: 'j'}}}, /join_sessions: expected a list of/)
  })

  test('policies under deny are refused', () => {
    refused({deny: {join_sessions: [{name: 'j', roles: ['a'], kinds: ['ssh'], modes: ['peer']}]}}, 'role "x": spec.deny.join_sessions: session policies are given under spec.allow only')
    refused({deny: {login: []}}, /spec\.deny\.login: unknown field; supported fields are logins, node_labels, rules$/)
  })

  test('tctl create names the file, the line, the role, the field and the column in the filter; nothing is planned', () => {
    const yaml = MODERATED.replace('contains(user.spec.roles, "auditor")', 'contains(user.spec.roles "auditor")')
    assert.throws(() => planCreate(yaml, 'prod.yaml'), (err: Error) => {
      assert.equal(err.message, 'prod.yaml: line 10: role "prod-access": spec.allow.require_session_join[0].filter: invalid filter "contains(user.spec.roles \\"auditor\\")": expected "," (column 26)')
      return true
    })
    assert.throws(() => planCreate(MODERATED.replace('modes: [moderator]', 'modes: [watcher]'), 'prod.yaml'), (err: Error) => {
      assert.match(err.message, /^prod\.yaml: line 12: role "prod-access": spec\.allow\.require_session_join\[0\]\.modes: unknown participant mode "watcher"/)
      return true
    })
  })
})
