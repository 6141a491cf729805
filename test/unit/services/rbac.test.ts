import {describe, test} from 'node:test'
import assert from 'node:assert/strict'
import {AccessDeniedError} from '../../../src/lib/errors.js'
import {
  assertAccessToNode,
  assertResourceAccess,
  canSeeNode,
  checkAccessToNode,
  checkResourceAccess,
  computeUserCertParams,
  matchLabels,
  matchLabelValue,
} from '../../../src/services/rbac.js'
import {BUILTIN_ROLES} from '../../../src/services/roles.js'
import {HOUR, MINUTE, role} from './helpers.js'

const access = BUILTIN_ROLES.get('access')!
const editor = BUILTIN_ROLES.get('editor')!
const auditor = BUILTIN_ROLES.get('auditor')!
const prod = {env: 'prod', region: 'us-west-1'}
const test_ = {env: 'test', region: 'eu-central-1'}

describe('label matching', () => {
  test('values: literal, *, glob, ^regex$', () => {
    assert.equal(matchLabelValue('prod', 'prod'), true)
    assert.equal(matchLabelValue('prod', 'production'), false)
    assert.equal(matchLabelValue('*', 'anything'), true)
    assert.equal(matchLabelValue('*', ''), true)
    assert.equal(matchLabelValue('db-*', 'db-7'), true)
    assert.equal(matchLabelValue('db-*', 'web-7'), false)
    assert.equal(matchLabelValue('^db-[0-9]+$', 'db-12'), true)
    assert.equal(matchLabelValue('^db-[0-9]+$', 'db-1x'), false)
    assert.equal(matchLabelValue('a.c', 'abc'), false, 'a literal dot is not a regex')
    assert.equal(matchLabelValue('^[a-$', 'x'), false, 'an invalid regex matches nothing')
  })

  test('selectors: empty matches nothing; *:* matches all; every key must exist', () => {
    assert.equal(matchLabels({}, prod), false)
    assert.equal(matchLabels({}, {}), false)
    assert.equal(matchLabels({'*': ['*']}, {}), true)
    assert.equal(matchLabels({'*': ['*']}, prod), true)
    assert.equal(matchLabels({env: ['prod']}, prod), true)
    assert.equal(matchLabels({env: ['prod'], team: ['*']}, prod), false, 'team missing on the node')
    assert.equal(matchLabels({env: ['*']}, {region: 'x'}), false, 'a wildcard value still needs the key')
    assert.equal(matchLabels({env: ['test', 'prod'], region: ['^us-.*$']}, prod), true)
    assert.equal(matchLabels({env: ['test', 'prod'], region: ['^us-.*$']}, test_), false)
  })

  test('selector values expand traits; unknown traits match nothing', () => {
    assert.equal(matchLabels({env: ['{{internal.envs}}']}, prod, {envs: ['dev', 'prod']}), true)
    assert.equal(matchLabels({env: ['{{internal.envs}}']}, prod, {envs: ['dev']}), false)
    assert.equal(matchLabels({env: ['{{internal.nope}}']}, prod, {}), false)
  })
})

describe('checkAccessToNode', () => {
  const traits = {logins: ['alice', 'root']}

  test('built-in access: logins from traits on every node', () => {
    const ok = checkAccessToNode({roles: [access], traits, login: 'alice', nodeLabels: prod})
    assert.equal(ok.allowed, true)
    assert.equal(ok.role, 'access')
    assert.match(ok.reason, /role "access" allows login "alice"/)
    assert.equal(checkAccessToNode({roles: [access], traits, login: 'root', nodeLabels: {}}).allowed, true)
    assert.equal(checkAccessToNode({roles: [access], traits, login: 'bob', nodeLabels: prod}).allowed, false)
  })

  test('unknown traits are dropped, not kept literally', () => {
    const r = role('r', {allow: {logins: ['{{internal.nope}}', '{{internal.logins}}'], node_labels: {'*': '*'}}})
    assert.equal(checkAccessToNode({roles: [r], traits: {}, login: '{{internal.nope}}', nodeLabels: prod}).allowed, false)
    assert.equal(checkAccessToNode({roles: [r], traits: {}, login: '', nodeLabels: prod}).allowed, false)
    assert.equal(checkAccessToNode({roles: [r], traits: {logins: ['x']}, login: 'x', nodeLabels: prod}).allowed, true)
  })

  test('external traits and prefixes expand too', () => {
    const r = role('r', {allow: {logins: ['dev-{{external.team}}'], node_labels: {'*': '*'}}})
    assert.equal(checkAccessToNode({roles: [r], traits: {team: ['db', 'web']}, login: 'dev-web', nodeLabels: {}}).allowed, true)
  })

  test('deny beats allow: a denied login', () => {
    const deny = role('no-root', {deny: {logins: ['root']}})
    const d = checkAccessToNode({roles: [access, deny], traits, login: 'root', nodeLabels: prod})
    assert.equal(d.allowed, false)
    assert.equal(d.role, 'no-root')
    assert.equal(d.reason, 'role "no-root" denies login "root"')
    assert.equal(checkAccessToNode({roles: [access, deny], traits, login: 'alice', nodeLabels: prod}).allowed, true)
  })

  test('deny beats allow: denied labels refuse every login', () => {
    const deny = role('no-prod', {deny: {node_labels: {env: 'prod'}}})
    assert.equal(checkAccessToNode({roles: [deny, access], traits, login: 'alice', nodeLabels: prod}).allowed, false)
    assert.match(checkAccessToNode({roles: [deny, access], traits, login: 'alice', nodeLabels: prod}).reason, /role "no-prod" denies access to nodes with labels env=prod,region=us-west-1/)
    assert.equal(checkAccessToNode({roles: [deny, access], traits, login: 'alice', nodeLabels: test_}).allowed, true)
  })

  test('deny logins expand traits', () => {
    const deny = role('deny-self', {deny: {logins: ['{{internal.logins}}']}})
    assert.equal(checkAccessToNode({roles: [access, deny], traits, login: 'alice', nodeLabels: prod}).allowed, false)
  })

  test('an empty deny selector denies nothing; a *:* deny denies everything', () => {
    const emptyDeny = role('e', {deny: {node_labels: {}}})
    assert.equal(checkAccessToNode({roles: [access, emptyDeny], traits, login: 'alice', nodeLabels: prod}).allowed, true)
    const allDeny = role('all', {deny: {node_labels: {'*': '*'}}})
    assert.equal(checkAccessToNode({roles: [access, allDeny], traits, login: 'alice', nodeLabels: {}}).allowed, false)
  })

  test('labels and login must come from one role', () => {
    const loginOnly = role('a', {allow: {logins: ['dba'], node_labels: {env: 'test'}}})
    const labelsOnly = role('b', {allow: {logins: ['web'], node_labels: {env: 'prod'}}})
    const d = checkAccessToNode({roles: [loginOnly, labelsOnly], traits: {}, login: 'dba', nodeLabels: prod})
    assert.equal(d.allowed, false)
    assert.equal(
      d.reason,
      'no single role allows both login "dba" (allowed by "a") and node labels env=prod,region=us-west-1 (matched by "b")',
    )
    assert.equal(checkAccessToNode({roles: [loginOnly, labelsOnly], traits: {}, login: 'web', nodeLabels: prod}).allowed, true)
    assert.equal(checkAccessToNode({roles: [loginOnly, labelsOnly], traits: {}, login: 'dba', nodeLabels: test_}).allowed, true)
  })

  test('a role without node_labels grants nothing', () => {
    const r = role('r', {allow: {logins: ['root']}})
    const d = checkAccessToNode({roles: [r], traits: {}, login: 'root', nodeLabels: prod})
    assert.equal(d.allowed, false)
    assert.match(d.reason, /no role's node_labels match/)
  })

  test('regex labels', () => {
    const r = role('db', {allow: {logins: ['postgres'], node_labels: {host: '^db-[0-9]+$'}}})
    assert.equal(checkAccessToNode({roles: [r], traits: {}, login: 'postgres', nodeLabels: {host: 'db-42'}}).allowed, true)
    assert.equal(checkAccessToNode({roles: [r], traits: {}, login: 'postgres', nodeLabels: {host: 'db-x'}}).allowed, false)
    assert.equal(checkAccessToNode({roles: [r], traits: {}, login: 'postgres', nodeLabels: {}}).allowed, false)
  })

  test('no roles: refused', () => {
    assert.equal(checkAccessToNode({roles: [], traits, login: 'alice', nodeLabels: prod}).allowed, false)
  })

  test('assertAccessToNode throws "access to server denied" with the reason as cause', () => {
    assert.throws(
      () => assertAccessToNode({roles: [access], traits, login: 'bob', nodeLabels: prod}),
      (err: Error) => err instanceof AccessDeniedError && err.message === 'access to server denied' && typeof err.cause === 'string',
    )
    assert.equal(assertAccessToNode({roles: [access], traits, login: 'root', nodeLabels: prod}).allowed, true)
  })

  test('canSeeNode looks at labels only', () => {
    const r = role('r', {allow: {node_labels: {env: 'test'}}, deny: {node_labels: {region: 'us-west-1'}}})
    assert.equal(canSeeNode({roles: [r], traits: {}, nodeLabels: test_}), true)
    assert.equal(canSeeNode({roles: [r], traits: {}, nodeLabels: {env: 'test', region: 'us-west-1'}}), false)
    assert.equal(canSeeNode({roles: [r], traits: {}, nodeLabels: prod}), false)
  })
})

describe('computeUserCertParams', () => {
  const user = {name: 'alice', traits: {logins: ['alice', 'root']}}

  test('principals: union of allowed logins with traits expanded, minus denied ones', () => {
    const extra = role('extra', {allow: {logins: ['ubuntu', 'root', '{{internal.missing}}']}})
    const deny = role('deny', {deny: {logins: ['root']}})
    const p = computeUserCertParams({user, roles: [access, extra, deny], clusterName: 'example.com'})
    assert.deepEqual(p.principals, ['alice', 'ubuntu'])
    assert.deepEqual(p.roles, ['access', 'extra', 'deny'])
    assert.deepEqual(p.traits, user.traits)
    assert.equal(p.routeToCluster, 'example.com')
    assert.equal(p.username, 'alice')
  })

  test('trait values that cannot be logins are dropped', () => {
    const p = computeUserCertParams({user: {name: 'a', traits: {logins: ['ok', 'two words', '']}}, roles: [access], clusterName: 'c'})
    assert.deepEqual(p.principals, ['ok'])
  })

  test('no logins: no certificate', () => {
    assert.throws(() => computeUserCertParams({user: {name: 'e', traits: {}}, roles: [editor], clusterName: 'c'}), {
      name: 'AccessDeniedError',
      message: 'this user cannot create SSH sessions, has no allowed logins',
    })
    assert.throws(() => computeUserCertParams({user: {name: 'a', traits: {}}, roles: [access], clusterName: 'c'}), /has no allowed logins/)
    const deny = role('deny', {deny: {logins: ['{{internal.logins}}']}})
    assert.throws(() => computeUserCertParams({user, roles: [access, deny], clusterName: 'c'}), /has no allowed logins/)
  })

  test('TTL defaults to 12h', () => {
    assert.equal(computeUserCertParams({user, roles: [access], clusterName: 'c'}).ttlMs, 12 * HOUR)
    assert.equal(computeUserCertParams({user, roles: [access], clusterName: 'c', requestedTtlMs: 0}).ttlMs, 12 * HOUR)
  })

  test('TTL is capped by the smallest max_session_ttl, 30h by default', () => {
    assert.equal(computeUserCertParams({user, roles: [access], clusterName: 'c', requestedTtlMs: 100 * HOUR}).ttlMs, 30 * HOUR)
    const short = role('short', {options: {max_session_ttl: '1h30m'}})
    const mid = role('mid', {options: {max_session_ttl: '8h'}})
    assert.equal(computeUserCertParams({user, roles: [access, mid, short], clusterName: 'c'}).ttlMs, 90 * MINUTE)
    assert.equal(computeUserCertParams({user, roles: [access, mid], clusterName: 'c', requestedTtlMs: 2 * HOUR}).ttlMs, 2 * HOUR)
    assert.equal(computeUserCertParams({user, roles: [access, mid], clusterName: 'c'}).ttlMs, 8 * HOUR)
  })

  test('TTL is at least 1m; a negative one is refused', () => {
    assert.equal(computeUserCertParams({user, roles: [access], clusterName: 'c', requestedTtlMs: 5000}).ttlMs, MINUTE)
    assert.throws(() => computeUserCertParams({user, roles: [access], clusterName: 'c', requestedTtlMs: -1}), {name: 'BadParameterError'})
  })

  test('permissions: any role allowing them; port forwarding unless every role turns it off', () => {
    const plain = role('plain', {allow: {logins: ['x']}, options: {port_forwarding: false}})
    let p = computeUserCertParams({user, roles: [plain], clusterName: 'c'})
    assert.deepEqual([p.permitAgentForwarding, p.permitPortForwarding, p.permitX11Forwarding, p.pinSourceIp], [false, false, false, false])
    p = computeUserCertParams({user, roles: [plain, access], clusterName: 'c'})
    assert.deepEqual([p.permitAgentForwarding, p.permitPortForwarding], [true, true])
    p = computeUserCertParams({user, roles: [plain, editor, auditor], clusterName: 'c'})
    assert.deepEqual([p.permitAgentForwarding, p.permitPortForwarding], [false, false], 'editor/auditor widen nothing')
    const x11 = role('x11', {options: {permit_x11_forwarding: true}})
    assert.equal(computeUserCertParams({user, roles: [plain, x11], clusterName: 'c'}).permitX11Forwarding, true)
  })

  test('source IP pinning needs the client address', () => {
    const pin = role('pin', {options: {pin_source_ip: true}})
    const p = computeUserCertParams({user, roles: [access, pin], clusterName: 'c', clientAddr: '10.0.0.5'})
    assert.equal(p.pinSourceIp, true)
    assert.equal(p.sourceAddress, '10.0.0.5')
    assert.equal(computeUserCertParams({user, roles: [access], clusterName: 'c', clientAddr: '10.0.0.5'}).sourceAddress, undefined)
    assert.throws(() => computeUserCertParams({user, roles: [access, pin], clusterName: 'c'}), AccessDeniedError)
  })
})

describe('checkResourceAccess', () => {
  test('editor manages users, roles and tokens; access and auditor do not', () => {
    for (const resource of ['user', 'role', 'token']) {
      for (const verb of ['list', 'create', 'read', 'update', 'delete']) {
        assert.equal(checkResourceAccess([editor], resource, verb).allowed, true, `${resource} ${verb}`)
        assert.equal(checkResourceAccess([access], resource, verb).allowed, false, `${resource} ${verb}`)
        assert.equal(checkResourceAccess([auditor], resource, verb).allowed, false, `${resource} ${verb}`)
      }
    }
  })

  test('auditor reads sessions and events, and nothing more', () => {
    assert.equal(checkResourceAccess([auditor], 'session', 'read').allowed, true)
    assert.equal(checkResourceAccess([auditor], 'event', 'list').allowed, true)
    assert.equal(checkResourceAccess([auditor], 'event', 'delete').allowed, false)
    assert.equal(checkResourceAccess([editor], 'event', 'list').allowed, false)
  })

  test('wildcards and deny rules', () => {
    const admin = role('admin', {allow: {rules: [{resources: ['*'], verbs: ['*']}]}})
    const noDelete = role('no-delete', {deny: {rules: [{resources: ['role'], verbs: ['delete']}]}})
    assert.equal(checkResourceAccess([admin], 'cert_authority', 'update').allowed, true)
    const d = checkResourceAccess([admin, noDelete], 'role', 'delete')
    assert.deepEqual(d, {allowed: false, role: 'no-delete', reason: 'role "no-delete" denies delete on role'})
    assert.equal(checkResourceAccess([admin, noDelete], 'role', 'create').allowed, true)
  })

  test('assertResourceAccess throws the reference message', () => {
    assert.throws(() => assertResourceAccess([access], 'user', 'create'), {
      name: 'AccessDeniedError',
      message: 'access denied to perform action "create" on "user"',
    })
    assert.equal(assertResourceAccess([editor], 'user', 'create').role, 'editor')
  })
})

describe('checkResourceAccess: rules with a where', () => {
  const alice = {name: 'alice', roles: ['access']}
  const hers = {participants: ['bob', 'alice'], user: 'bob'}
  const bobs = {participants: ['bob'], user: 'bob'}

  test('built-in access: sessions it took part in, conditionally; auditor every session', () => {
    for (const verb of ['list', 'read']) {
      const anySession = checkResourceAccess([access], 'session', verb, {user: alice})
      assert.equal(anySession.allowed, false, 'not every session')
      assert.equal(anySession.conditional, true, 'but some')
      assert.equal(checkResourceAccess([access], 'session', verb, {user: alice, session: hers}).allowed, true)
      const other = checkResourceAccess([access], 'session', verb, {user: alice, session: bobs})
      assert.deepEqual(other, {allowed: false, reason: `no role allows ${verb} on session here: role "access" allows it only where contains(session.participants, user.metadata.name)`})
      assert.deepEqual(checkResourceAccess([auditor], 'session', verb, {user: alice}), {allowed: true, role: 'auditor', reason: `role "auditor" allows ${verb} on session`})
      assert.equal(checkResourceAccess([access, auditor], 'session', verb, {user: alice, session: bobs}).allowed, true)
    }
    assert.equal(checkResourceAccess([access], 'session', 'delete', {user: alice, session: hers}).allowed, false, 'only the verbs listed')
    assert.equal(checkResourceAccess([editor], 'session', 'list', {user: alice}).conditional, undefined, 'no rule: refused outright')
  })

  test('without context (existing callers) a where rule allows nothing', () => {
    const d = checkResourceAccess([access], 'session', 'read')
    assert.equal(d.allowed, false)
    assert.equal(d.conditional, true)
    assert.match(d.reason, /role "access" allows only read on session where contains\(session\.participants, user\.metadata\.name\)/)
  })

  test('a deny rule with a where denies only where it holds; unknown, it keeps "all" from being said', () => {
    const notStarted = role('not-started', {deny: {rules: [{resources: ['session'], verbs: ['read'], where: '!equals(session.user, user.metadata.name)'}]}})
    const bob = {name: 'bob', roles: []}
    assert.equal(checkResourceAccess([auditor, notStarted], 'session', 'read', {user: bob, session: bobs}).allowed, true)
    const d = checkResourceAccess([auditor, notStarted], 'session', 'read', {user: alice, session: hers})
    assert.deepEqual(d, {allowed: false, role: 'not-started', reason: 'role "not-started" denies read on session where !equals(session.user, user.metadata.name)'})
    const all = checkResourceAccess([auditor, notStarted], 'session', 'read', {user: alice})
    assert.equal(all.allowed, false, 'some sessions are denied: not allowed for all')
    assert.equal(all.conditional, true)
    assert.equal(all.role, 'not-started')
    assert.equal(checkResourceAccess([notStarted], 'session', 'read', {user: alice}).conditional, undefined, 'a deny alone allows nothing')
    assert.equal(checkResourceAccess([auditor, notStarted], 'session', 'list', {user: alice}).allowed, true, 'the deny names read only')
  })

  test('an unconditional deny wins over a where allow', () => {
    const noSessions = role('no-sessions', {deny: {rules: [{resources: ['session'], verbs: ['*']}]}})
    const d = checkResourceAccess([access, noSessions], 'session', 'read', {user: alice})
    assert.deepEqual(d, {allowed: false, role: 'no-sessions', reason: 'role "no-sessions" denies read on session'})
    assert.equal(checkResourceAccess([access, noSessions], 'session', 'read', {user: alice, session: hers}).allowed, false)
  })

  test('a condition on the user alone is decided without the resource', () => {
    const opsNodes = role('ops-nodes', {allow: {rules: [{resources: ['node'], verbs: ['list'], where: 'contains(user.spec.roles, "ops")'}]}})
    assert.equal(checkResourceAccess([opsNodes], 'node', 'list', {user: {name: 'a', roles: ['ops-nodes', 'ops']}}).allowed, true)
    const d = checkResourceAccess([opsNodes], 'node', 'list', {user: alice})
    assert.equal(d.allowed, false)
    assert.equal(d.conditional, undefined)
    assert.equal(checkResourceAccess([opsNodes], 'node', 'list').conditional, true, 'no user: unknown')
  })
})
