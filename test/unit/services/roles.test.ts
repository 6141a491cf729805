import {describe, test} from 'node:test'
import assert from 'node:assert/strict'
import {AlreadyExistsError, BadParameterError, NotFoundError} from '../../../src/lib/errors.js'
import {parseResources, stringifyResources} from '../../../src/services/models/resource.js'
import {BUILTIN_ROLES, RoleService, validateRole} from '../../../src/services/roles.js'
import {setup} from './helpers.js'

const EXAMPLE = `
kind: role
version: v5
metadata: {name: example}
spec:
  options:
    max_session_ttl: 8h
    forward_agent: true
    port_forwarding: true
  allow:
    logins: [root, '{{internal.logins}}']
    node_labels: {'env': 'test', 'region': ['us-west-1', 'eu-central-1'], 'host': '^db-[0-9]+$'}
  deny:
    logins: [nobody]
    node_labels: {'env': 'prod'}
`

function roleWith(spec: unknown, name = 'x') {
  return {kind: 'role', version: 'v5', metadata: {name}, spec}
}

function assertInvalid(spec: unknown, message: string | RegExp) {
  assert.throws(() => validateRole(roleWith(spec)), (err: Error) => {
    assert.ok(err instanceof BadParameterError, `expected BadParameterError, got ${err}`)
    if (typeof message === 'string') assert.equal(err.message, message)
    else assert.match(err.message, message)
    return true
  })
}

describe('validateRole', () => {
  test('accepts the reference example and normalises it', () => {
    const role = validateRole(parseResources(EXAMPLE)[0])
    assert.equal(role.metadata.name, 'example')
    assert.deepEqual(role.spec.options, {max_session_ttl: '8h', forward_agent: true, port_forwarding: true, permit_x11_forwarding: false, pin_source_ip: false})
    assert.deepEqual(role.spec.allow.node_labels, {env: ['test'], region: ['us-west-1', 'eu-central-1'], host: ['^db-[0-9]+$']})
    assert.deepEqual(role.spec.allow.logins, ['root', '{{internal.logins}}'])
    assert.deepEqual(role.spec.deny, {logins: ['nobody'], node_labels: {env: ['prod']}, rules: []})
  })

  test('fills defaults for a bare role', () => {
    const role = validateRole(roleWith(undefined))
    assert.deepEqual(role.spec.options, {max_session_ttl: '30h', forward_agent: false, port_forwarding: true, permit_x11_forwarding: false, pin_source_ip: false})
    assert.deepEqual(role.spec.allow, {logins: [], node_labels: {}, rules: []})
  })

  test('names an invalid regular expression', () => {
    assertInvalid({allow: {node_labels: {env: '^[a-$'}}}, 'role "x": spec.allow.node_labels.env: invalid regular expression "^[a-$"')
    assertInvalid({deny: {node_labels: {env: ['ok', '^(unclosed$']}}}, 'role "x": spec.deny.node_labels.env: invalid regular expression "^(unclosed$"')
  })

  test('names unknown options and fields', () => {
    assertInvalid({options: {max_sesion_ttl: '8h'}}, /^role "x": spec\.options\.max_sesion_ttl: unknown option; supported options are max_session_ttl, /)
    assertInvalid({allow: {login: ['root']}}, /^role "x": spec\.allow\.login: unknown field; supported fields are logins, node_labels, rules, join_sessions, require_session_join$/)
    assertInvalid({allowed: {}}, /^role "x": spec\.allowed: unknown field/)
    assertInvalid({allow: {rules: [{resources: ['user'], verbs: ['list'], wher: 'x'}]}}, /spec\.allow\.rules\[0\]\.wher: unknown field; supported fields are resources, verbs, where$/)
  })

  test('names wrong types', () => {
    assertInvalid({options: {forward_agent: 'yes'}}, 'role "x": spec.options.forward_agent: expected true or false, got "yes"')
    assertInvalid({options: {max_session_ttl: 8}}, /spec\.options\.max_session_ttl: expected a duration/)
    assertInvalid({options: {max_session_ttl: '8 hours'}}, /spec\.options\.max_session_ttl: invalid duration "8 hours"/)
    assertInvalid({options: {max_session_ttl: '30s'}}, /spec\.options\.max_session_ttl: must be at least 1m/)
    assertInvalid({options: []}, 'role "x": spec.options: expected a mapping')
    assertInvalid({allow: {logins: {root: true}}}, 'role "x": spec.allow.logins: expected a list of strings')
    assertInvalid({allow: {logins: ['root', 7]}}, 'role "x": spec.allow.logins[1]: expected a string, got 7')
    assertInvalid({allow: {logins: ['a b']}}, /spec\.allow\.logins\[0\]: invalid login "a b"/)
    assertInvalid({allow: {node_labels: ['env']}}, /spec\.allow\.node_labels: expected a mapping/)
    assertInvalid({allow: {node_labels: {env: 3}}}, /spec\.allow\.node_labels\.env: expected a string or a non-empty list/)
    assertInvalid({allow: {node_labels: {env: []}}}, /spec\.allow\.node_labels\.env: expected a string or a non-empty list/)
    assertInvalid({allow: {node_labels: {env: ['a', 1]}}}, /spec\.allow\.node_labels\.env: expected a string at index 1, got 1/)
    assertInvalid({allow: {node_labels: {'*': 'prod'}}}, /spec\.allow\.node_labels\.\*: the wildcard label name/)
    assertInvalid({allow: {rules: [{resources: ['usr'], verbs: ['list']}]}}, /spec\.allow\.rules\[0\]\.resources: unknown resource "usr"/)
    assertInvalid({allow: {rules: [{resources: ['user'], verbs: ['destroy']}]}}, /spec\.allow\.rules\[0\]\.verbs: unknown verb "destroy"/)
  })

  test('a rule\'s where is parsed: a bad condition names the role, the rule and the problem', () => {
    const own = 'contains(session.participants, user.metadata.name)'
    const ok = validateRole(roleWith({allow: {rules: [{resources: ['session'], verbs: ['list', 'read'], where: own}]}, deny: {rules: [{resources: ['session'], verbs: ['read'], where: '!equals(session.user, user.metadata.name)'}]}}))
    assert.deepEqual(ok.spec.allow.rules, [{resources: ['session'], verbs: ['list', 'read'], where: own}])
    assert.deepEqual(validateRole(roleWith({allow: {rules: [{resources: ['node'], verbs: ['list']}]}})).spec.allow.rules, [{resources: ['node'], verbs: ['list']}], 'no where: none added')
    assertInvalid(
      {allow: {rules: [{resources: ['node'], verbs: ['list']}, {resources: ['session'], verbs: ['read'], where: 'startswith(session.user, "a")'}]}},
      'role "x": spec.allow.rules[1].where: invalid condition "startswith(session.user, \\"a\\")": unknown function "startswith"; supported functions are contains, equals (column 1)',
    )
    assertInvalid({deny: {rules: [{resources: ['session'], verbs: ['read'], where: 'contains(session.hosts, "a")'}]}}, /^role "x": spec\.deny\.rules\[0\]\.where: invalid condition .*unknown field "session\.hosts"/)
    assertInvalid({allow: {rules: [{resources: ['session'], verbs: ['read'], where: ''}]}}, /spec\.allow\.rules\[0\]\.where: expected a condition such as/)
    assertInvalid({allow: {rules: [{resources: ['session'], verbs: ['read'], where: 3}]}}, /spec\.allow\.rules\[0\]\.where: expected a condition such as/)
    // Session fields mean nothing for other resources: such a rule would never (or always) apply.
    assertInvalid({allow: {rules: [{resources: ['session', 'event'], verbs: ['read'], where: own}]}}, 'role "x": spec.allow.rules[0].where: session fields may be used only in a rule whose resources are [session], not [session, event]')
    assertInvalid({allow: {rules: [{resources: ['*'], verbs: ['read'], where: own}]}}, /session fields may be used only in a rule whose resources are \[session\], not \[\*\]/)
    // A condition on the user alone fits any resource.
    assert.doesNotThrow(() => validateRole(roleWith({allow: {rules: [{resources: ['node'], verbs: ['list'], where: 'contains(user.spec.roles, "ops")'}]}})))
  })

  test('a rule with where survives YAML both ways (tctl create, tctl get)', () => {
    const yaml = `
kind: role
version: v5
metadata: {name: own-sessions}
spec:
  allow:
    rules:
      - resources: [session]
        verbs: [list, read]
        where: contains(session.participants, user.metadata.name)
`
    const role = validateRole(parseResources(yaml)[0])
    assert.equal(role.spec.allow.rules[0]!.where, 'contains(session.participants, user.metadata.name)')
    const printed = stringifyResources([role])
    assert.match(printed, /where: contains\(session\.participants, user\.metadata\.name\)/)
    assert.deepEqual(validateRole(parseResources(printed)[0]), role)
  })

  test('names unsupported templates', () => {
    assertInvalid({allow: {logins: ['{{internal.logins']}}, /spec\.allow\.logins\[0\]: unterminated template/)
    assertInvalid({allow: {logins: ['{{email.local(external.email)}}']}}, /spec\.allow\.logins\[0\]: unsupported template "\{\{email\.local\(external\.email\)\}\}"/)
    assertInvalid({allow: {node_labels: {env: '{{foo}}'}}}, /spec\.allow\.node_labels\.env: unsupported template/)
    assert.doesNotThrow(() => validateRole(roleWith({allow: {logins: ['{{external.groups}}', 'u-{{internal["logins"]}}']}})))
  })

  test('refuses other versions and kinds', () => {
    assert.throws(() => validateRole({kind: 'role', version: 'v7', metadata: {name: 'x'}, spec: {}}), /role "x": unsupported version "v7"; expected v5/)
    assert.throws(() => validateRole({kind: 'user', version: 'v5', metadata: {name: 'x'}, spec: {}}), /unknown resource kind "user"; expected one of role/)
  })

  test('built-in roles', () => {
    assert.deepEqual([...BUILTIN_ROLES.keys()].sort(), ['access', 'auditor', 'editor'])
    const access = BUILTIN_ROLES.get('access')!
    assert.deepEqual(access.spec.allow.logins, ['{{internal.logins}}'])
    assert.deepEqual(access.spec.allow.node_labels, {'*': ['*']})
    // Users list and play back the sessions they took part in; auditors every session.
    assert.deepEqual(access.spec.allow.rules, [{resources: ['session'], verbs: ['list', 'read'], where: 'contains(session.participants, user.metadata.name)'}])
    assert.deepEqual(BUILTIN_ROLES.get('auditor')!.spec.allow.rules, [{resources: ['session', 'event'], verbs: ['list', 'read']}])
    assert.deepEqual(BUILTIN_ROLES.get('editor')!.spec.allow.logins, [])
    assert.ok(Object.isFrozen(access.spec.allow))
  })
})

describe('RoleService', () => {
  test('create, get, list, delete', async () => {
    const {backend} = setup()
    const roles = new RoleService(backend)
    const created = await roles.create(parseResources(EXAMPLE)[0])
    assert.deepEqual(await roles.get('example'), created)
    assert.deepEqual(
      (await roles.list()).map((r) => r.metadata.name),
      ['access', 'auditor', 'editor', 'example'],
    )
    await roles.delete('example')
    await assert.rejects(roles.get('example'), {name: 'NotFoundError', message: 'role "example" is not found'})
    await assert.rejects(roles.delete('example'), NotFoundError)
  })

  test('create refuses an existing name, upsert replaces', async () => {
    const {backend} = setup()
    const roles = new RoleService(backend)
    await roles.create(roleWith({allow: {logins: ['a']}}, 'dev'))
    await assert.rejects(roles.create(roleWith({allow: {logins: ['b']}}, 'dev')), {name: 'AlreadyExistsError', message: 'role "dev" already exists'})
    await roles.upsert(roleWith({allow: {logins: ['b']}}, 'dev'))
    assert.deepEqual((await roles.get('dev')).spec.allow.logins, ['b'])
  })

  test('validates before storing', async () => {
    const {backend} = setup()
    const roles = new RoleService(backend)
    await assert.rejects(roles.upsert(roleWith({allow: {node_labels: {env: '^[a-$'}}}, 'bad')), BadParameterError)
    assert.deepEqual(await backend.getRange('/roles/'), [])
  })

  test('built-ins are present without seeding, can be customised, not deleted or re-created', async () => {
    const {backend} = setup()
    const roles = new RoleService(backend)
    assert.deepEqual((await roles.get('access')).spec.allow.logins, ['{{internal.logins}}'])
    await assert.rejects(roles.create(roleWith({}, 'editor')), AlreadyExistsError)
    await assert.rejects(roles.delete('access'), {name: 'BadParameterError', message: 'role "access" is a built-in role and cannot be deleted'})
    await roles.upsert(roleWith({allow: {logins: ['ops'], node_labels: {'*': '*'}}}, 'access'))
    assert.deepEqual((await roles.get('access')).spec.allow.logins, ['ops'])
    assert.equal((await roles.list()).filter((r) => r.metadata.name === 'access').length, 1)
    // A copy, not the frozen original.
    const copy = await roles.get('auditor')
    copy.spec.allow.logins.push('x')
    assert.deepEqual(BUILTIN_ROLES.get('auditor')!.spec.allow.logins, [])
  })

  test('getMany resolves in order and names a missing role', async () => {
    const {backend} = setup()
    const roles = new RoleService(backend)
    assert.deepEqual(
      (await roles.getMany(['editor', 'access'])).map((r) => r.metadata.name),
      ['editor', 'access'],
    )
    await assert.rejects(roles.getMany(['access', 'ghost']), {message: 'role "ghost" is not found'})
  })
})
