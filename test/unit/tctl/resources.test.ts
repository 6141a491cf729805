import assert from 'node:assert/strict'
import {existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {afterEach, describe, test, type TestContext} from 'node:test'
import {AlreadyExistsError, BadParameterError, UsageError, UserError} from '../../../src/lib/errors.js'
import {writeFilesTogether} from '../../../src/tctl/files.js'
import {applyCreate, checkCreate, fetchResources, parseGetRefs, parseRmRef, planCreate, tokenToResource} from '../../../src/tctl/resources.js'
import {memoryAuthApi, type MemoryAuthApi} from '../../helpers/memory-auth-api.js'

const ROLE = `kind: role
version: v5
metadata: {name: dev}
spec:
  allow:
    logins: [dev]
    node_labels: {env: test}
`
const USER = `kind: user
version: v2
metadata: {name: alice}
spec:
  roles: [dev]
  traits: {logins: [alice]}
`

const clusters: MemoryAuthApi[] = []
afterEach(async () => {
  for (const cluster of clusters.splice(0)) await cluster.close()
})

/** The auth API in memory with these roles, users and tokens; `applied` lists the changes tctl made through it. */
async function fakeApi(state: {roles?: string[]; users?: string[]; tokens?: string[]} = {}) {
  const cluster = await memoryAuthApi()
  clusters.push(cluster)
  const admin = {user: 'admin'}
  for (const name of state.roles ?? ['access', 'editor']) await cluster.auth.upsertRole({kind: 'role', version: 'v5', metadata: {name}, spec: {}}, false, admin)
  for (const name of state.users ?? []) await cluster.auth.createUser({name, roles: ['access'], traits: {}}, admin)
  for (const token of state.tokens ?? []) await cluster.auth.addJoinToken({roles: ['node'], token}, admin)
  cluster.calls.length = 0
  const applied = () =>
    cluster.calls.flatMap((call) => {
      const [method, target] = call.split(' ') as [string, string]
      const [path, query] = target.split('?')
      const [, , kind, name] = path!.split('/')
      if (method === 'PUT') return [`${kind!.replace(/s$/, '')}:${decodeURIComponent(name!)}:${query === 'create=true' ? 'create' : 'upsert'}`]
      if (method === 'POST' && kind === 'tokens') return ['token']
      if (method === 'DELETE' && kind === 'tokens') return [`delete-token:${name}`]
      return []
    })
  return {api: cluster.api, applied}
}

describe('tctl resource references', () => {
  test('get accepts kinds, plurals, kind/name and comma lists', () => {
    assert.deepEqual(parseGetRefs('roles'), [{kind: 'role'}])
    assert.deepEqual(parseGetRefs('role/admin,users'), [{kind: 'role', name: 'admin'}, {kind: 'user'}])
    assert.deepEqual(parseGetRefs('token/abc'), [{kind: 'token', name: 'abc'}])
    assert.deepEqual(parseGetRefs('proxies,proxy/p1'), [{kind: 'proxy'}, {kind: 'proxy', name: 'p1'}])
    assert.throws(() => parseGetRefs('foo'), (err) => err instanceof UsageError && /invalid resource reference "foo"; expected roles, role\/<name>/.test(err.message))
    assert.throws(() => parseGetRefs('role/'), UsageError)
  })

  test('rm needs kind/name and names the accepted forms', () => {
    assert.deepEqual(parseRmRef('role/dev'), {kind: 'role', name: 'dev'})
    assert.deepEqual(parseRmRef('user/alice'), {kind: 'user', name: 'alice'})
    assert.deepEqual(parseRmRef('token/abc'), {kind: 'token', name: 'abc'})
    assert.deepEqual(parseRmRef('node/x'), {kind: 'node', name: 'x'})
    assert.deepEqual(parseRmRef('lock/abc'), {kind: 'lock', name: 'abc'})
    for (const bad of ['foo', 'role', 'role/', 'node/', 'roles', 'proxy/x']) {
      assert.throws(() => parseRmRef(bad), (err) => err instanceof UsageError && err.message.endsWith('expected role/<name>, user/<name>, token/<token>, node/<uuid> or lock/<id>'), bad)
    }
  })

  test('tokens as resources', () => {
    assert.deepEqual(tokenToResource({token: 'abc', roles: ['node'], expires: '2026-01-01T00:00:00.000Z', static: false}), {
      kind: 'token',
      version: 'v2',
      metadata: {name: 'abc', expires: '2026-01-01T00:00:00.000Z'},
      spec: {roles: ['node']},
    })
  })
})

describe('tctl create', () => {
  test('plans every document, validating roles and users', () => {
    const plan = planCreate(`${ROLE}---\n${USER}`, 'f.yaml')
    assert.deepEqual(plan.map((p) => `${p.kind}/${p.name}`), ['role/dev', 'user/alice'])
    assert.equal(plan[0]!.kind === 'role' && plan[0]!.role.spec.options.max_session_ttl, '30h')
  })

  test('malformed YAML, unknown kinds and invalid roles name the file', () => {
    assert.throws(() => planCreate('kind: role\n  bad: [', 'f.yaml'), (err) => err instanceof BadParameterError && /^f\.yaml: malformed YAML at line/.test(err.message))
    assert.throws(() => planCreate('kind: widget\nversion: v1\nmetadata: {name: x}\n', 'f.yaml'), (err: Error) => err.message === 'f.yaml: unknown resource kind "widget"; expected one of role, user, token, lock, node')
    const badRole = ROLE.replace('env: test', () => "env: '^[a-$'")
    assert.throws(() => planCreate(`${USER}---\n${badRole}`, 'f.yaml'), /: f\.yaml: document 2: line 14: role "dev": spec\.allow\.node_labels\.env: invalid regular expression/)
    assert.throws(() => planCreate(`${ROLE}---\n${ROLE}`, 'f.yaml'), /role "dev" appears more than once/)
    assert.throws(() => planCreate('', 'f.yaml'), /f\.yaml: no resources found/)
  })

  test('token resources', () => {
    const plan = planCreate('kind: token\nversion: v2\nmetadata: {name: abc, expires: "2030-01-01T00:00:00Z"}\nspec: {roles: [Node]}\n', 't.yaml')
    assert.deepEqual(plan, [{kind: 'token', name: 'abc', token: {roles: ['node'], expires: '2030-01-01T00:00:00.000Z'}}])
    assert.throws(() => planCreate('kind: token\nversion: v2\nmetadata: {name: abc}\nspec: {roles: [bogus]}\n', 't.yaml'), /t\.yaml: unknown token type "bogus"/)
  })

  test('without --force an existing resource stops everything before anything is applied', async () => {
    const {api, applied} = await fakeApi({users: ['alice']})
    const plan = planCreate(`${ROLE}---\n${USER}`, 'f.yaml')
    await assert.rejects(checkCreate(api, plan, 'f.yaml', false), (err) => err instanceof AlreadyExistsError && err.message === 'user "alice" already exists')
    assert.deepEqual(applied(), [])
  })

  test('a user whose role exists neither in the cluster nor in the file is refused up front', async () => {
    const {api, applied} = await fakeApi()
    const plan = planCreate(USER, 'f.yaml')
    await assert.rejects(checkCreate(api, plan, 'f.yaml', false), /^BadParameterError: f\.yaml: user "alice": role "dev" is not found$/)
    assert.deepEqual(applied(), [])
  })

  test('applies roles before users, and reports created or updated', async () => {
    const {api, applied} = await fakeApi({roles: ['access', 'dev']})
    const plan = planCreate(`${USER}---\n${ROLE}`, 'f.yaml')
    const existing = await checkCreate(api, plan, 'f.yaml', true)
    const messages = await applyCreate(api, plan, existing, true)
    assert.deepEqual(applied(), ['role:dev:upsert', 'user:alice:upsert'])
    assert.deepEqual(messages, ['role "dev" has been updated', 'user "alice" has been created'])
  })

  test('an OpenSSH node: sub_kind openssh, port 22 when none, hostname from the name; listed with its labels and no expiry', async () => {
    const doc = 'kind: node\nsub_kind: openssh\nversion: v2\nmetadata:\n  name: sshd-1\n  labels: {env: lab}\nspec:\n  addr: 10.0.0.5\n'
    const plan = planCreate(doc, 'n.yaml')
    assert.deepEqual(plan, [{kind: 'node', name: 'sshd-1', node: {hostname: 'sshd-1', addr: '10.0.0.5:22', labels: {env: 'lab'}}}])
    const {api} = await fakeApi()
    assert.deepEqual(await applyCreate(api, plan, await checkCreate(api, plan, 'n.yaml', false), false), ['node "sshd-1" has been created'])
    const [listed] = await api.listNodes()
    assert.equal(listed!.subKind, 'openssh')
    assert.equal(listed!.expires, undefined)
    assert.deepEqual(listed!.labels, {env: 'lab'})
    await assert.rejects(checkCreate(api, plan, 'n.yaml', false), (err) => err instanceof AlreadyExistsError && err.message === 'node "sshd-1" already exists')
    const moved = planCreate(doc.replace('10.0.0.5', '"[::1]:2222"'), 'n.yaml')
    await applyCreate(api, moved, await checkCreate(api, moved, 'n.yaml', true), true)
    assert.equal((await api.listNodes())[0]!.addr, '[::1]:2222')
    const [resource] = await fetchResources(api, [{kind: 'node', name: 'sshd-1'}])
    assert.equal(resource!.sub_kind, 'openssh')
    assert.equal(resource!.metadata.expires, undefined)
  })

  test('tctl create refuses our own kind of node and an OpenSSH node without an address, naming the line', () => {
    assert.throws(() => planCreate('kind: node\nversion: v2\nmetadata: {name: n1}\nspec: {addr: "10.0.0.5:22"}\n', 'n.yaml'), /^BadParameterError: n\.yaml: node "n1": only OpenSSH servers are registered with tctl create \(sub_kind: openssh\); Teleport nodes join with a token$/)
    assert.throws(() => planCreate('kind: node\nsub_kind: openssh\nversion: v2\nmetadata: {name: n1}\nspec: {}\n', 'n.yaml'), /n\.yaml: node: spec\.addr: expected the host:port of the sshd/)
    assert.throws(() => planCreate('kind: node\nsub_kind: openssh\nversion: v2\nmetadata: {name: n1}\nspec:\n  addr: "h:22"\n  port: 22\n', 'n.yaml'), /n\.yaml: line 7: node: spec\.port: unknown field; expected addr, hostname/)
    assert.throws(() => planCreate('kind: node\nsub_kind: openssh\nversion: v2\nmetadata: {name: n1}\nspec: {addr: "h:99999"}\n', 'n.yaml'), /spec\.addr: "h:99999" is not host:port/)
    assert.throws(() => planCreate('kind: node\nsub_kind: openssh\nversion: v2\nmetadata: {name: n1}\nspec: {addr: "h:22", hostname: "bad name"}\n', 'n.yaml'), /invalid hostname "bad name"/)
  })

  test('without --force resources are created with create semantics', async () => {
    const {api, applied} = await fakeApi()
    const plan = planCreate(ROLE, 'f.yaml')
    const messages = await applyCreate(api, plan, await checkCreate(api, plan, 'f.yaml', false), false)
    assert.deepEqual(applied(), ['role:dev:create'])
    assert.deepEqual(messages, ['role "dev" has been created'])
  })
})

function tempDir(t: TestContext): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'tctl-files-'))
  t.after(() => rmSync(dir, {recursive: true, force: true}))
  return dir
}

describe('tctl output files', () => {
  test('writes every file with its mode, refuses existing files without overwrite', (t) => {
    const dir = tempDir(t)
    const key = path.join(dir, 'k')
    writeFilesTogether([
      {path: key, data: 'private', mode: 0o600},
      {path: `${key}.pub`, data: 'public', mode: 0o644},
    ])
    assert.equal(readFileSync(key, 'utf8'), 'private')
    assert.equal(statSync(key).mode & 0o777, 0o600)
    assert.equal(statSync(`${key}.pub`).mode & 0o777, 0o644)
    assert.throws(() => writeFilesTogether([{path: key, data: 'x', mode: 0o600}]), (err: UserError) => /k already exists$/.test(err.message) && /--overwrite/.test(err.hint ?? ''))
    writeFilesTogether([{path: key, data: 'new', mode: 0o600}], {overwrite: true})
    assert.equal(readFileSync(key, 'utf8'), 'new')
  })

  test('a failure leaves no file and no temporary behind', (t) => {
    const dir = tempDir(t)
    writeFileSync(path.join(dir, 'keep'), '')
    assert.throws(
      () => writeFilesTogether([
        {path: path.join(dir, 'a'), data: 'a', mode: 0o600},
        {path: path.join(dir, 'missing-dir', 'b'), data: 'b', mode: 0o600},
      ]),
      /cannot write .*missing-dir\/b: the directory .* does not exist/,
    )
    assert.equal(existsSync(path.join(dir, 'a')), false)
    assert.deepEqual(readdirSync(dir), ['keep'])
  })
})
