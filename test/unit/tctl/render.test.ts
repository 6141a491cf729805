import assert from 'node:assert/strict'
import {describe, test} from 'node:test'
import {
  caExportText,
  humanDuration,
  nodesTable,
  rfc822,
  statusText,
  tokenAddedData,
  tokenAddedMessage,
  tokensTable,
  userCreatedMessage,
  userResetMessage,
  usersTable,
} from '../../../src/tctl/render.js'
import type {User} from '../../../src/services/users.js'

const now = new Date('2026-11-21T12:00:00Z')
const at = (ms: number) => new Date(now.getTime() + ms).toISOString()
const PIN = `sha256:${'ab'.repeat(32)}`
const TOKEN = '0123456789abcdef0123456789abcdef'

describe('tctl text output', () => {
  test('tokens add prints the reference text block', () => {
    const text = tokenAddedMessage({token: TOKEN, roles: ['node'], expires: at(15 * 60_000), uses: 1, caPins: [PIN], authServer: '10.0.0.1:3025'}, now)
    assert.equal(
      text,
      `The invite token: ${TOKEN}\n` +
        'This token will expire in 15 minutes.\n' +
        'This token can be used once.\n\n' +
        'Run this on the new node to join the cluster:\n\n' +
        '> teleport start \\\n' +
        '   --roles=node \\\n' +
        `   --token=${TOKEN} \\\n` +
        `   --ca-pin=${PIN} \\\n` +
        '   --auth-server=10.0.0.1:3025\n\n' +
        'Please note:\n\n' +
        '  - This invitation token will expire in 15 minutes\n' +
        '  - 10.0.0.1:3025 must be reachable from the new node\n',
    )
  })

  test('tokens add: several roles, a rounded TTL, one minute', () => {
    const text = tokenAddedMessage({token: TOKEN, roles: ['node', 'proxy'], expires: at(60 * 60_000 - 400), uses: 1, caPins: [PIN], authServer: 'a:3025'}, now)
    assert.match(text, /--roles=node,proxy \\\n/)
    assert.match(text, /This token will expire in 60 minutes\.\n/)
    const one = tokenAddedMessage({token: TOKEN, roles: ['node'], expires: at(60_000), uses: 1, caPins: [PIN], authServer: 'a:3025'}, now)
    assert.match(one, /expire in 1 minute\.\n/)
  })

  test('tokens add --uses=N says how many hosts may join with it', () => {
    const text = tokenAddedMessage({token: TOKEN, roles: ['node'], expires: at(60_000), uses: 5, caPins: [PIN], authServer: 'a:3025'}, now)
    assert.match(text, /expire in 1 minute\.\nThis token can be used 5 times\.\n\n/)
  })

  test('tokens add: a trusted_cluster token gets the cluster invite text', () => {
    const text = tokenAddedMessage({token: TOKEN, roles: ['trusted_cluster'], expires: at(15 * 60_000), uses: 1, caPins: [PIN], authServer: 'a:3025'}, now)
    assert.match(text, /^The cluster invite token: 0123/)
    assert.doesNotMatch(text, /teleport start/)
  })

  test('tokens add --format json carries the pins and the auth server', () => {
    assert.deepEqual(tokenAddedData({token: TOKEN, roles: ['node'], expires: at(1), uses: 1, caPins: [PIN], authServer: 'a:3025'}), {
      token: TOKEN,
      roles: ['node'],
      expires: at(1),
      uses: 1,
      ca_pins: [PIN],
      auth_server: 'a:3025',
    })
  })

  test('users add prints the reference invite message', () => {
    const invite = {token: 'tok', kind: 'invite' as const, user: 'alice', expires: at(60 * 60_000), url: 'https://proxy.example.com:3080/web/invite/tok', proxyAddr: 'proxy.example.com:3080'}
    assert.equal(
      userCreatedMessage('alice', invite, now),
      'User "alice" has been created but requires a password. Share this URL with the user to complete user setup, link is valid for 1h:\n' +
        'https://proxy.example.com:3080/web/invite/tok\n\n' +
        'NOTE: Make sure proxy.example.com:3080 points at a Teleport proxy which users can access.\n',
    )
  })

  test('users reset prints the reset message, valid for 8h', () => {
    const reset = {token: 'tok', kind: 'reset' as const, user: 'alice', expires: at(8 * 3_600_000 - 900), url: 'https://p:3080/web/reset/tok', proxyAddr: 'p:3080'}
    assert.equal(
      userResetMessage('alice', reset, now),
      'User "alice" has been reset. Share this URL with the user to complete password reset, link is valid for 8h:\n' +
        'https://p:3080/web/reset/tok\n\n' +
        'NOTE: Make sure p:3080 points at a Teleport proxy which users can access.\n',
    )
  })

  test('durations read as people say them', () => {
    assert.equal(humanDuration(3_600_000), '1h')
    assert.equal(humanDuration(90 * 60_000), '1h30m')
    assert.equal(humanDuration(15 * 60_000 - 10), '15m')
    assert.equal(humanDuration(20_000), '20s')
  })

  test('users ls: User | Roles | Logins, sorted; a Status column only when someone is locked', () => {
    const users: User[] = [
      {name: 'bob', roles: ['access'], traits: {}, createdAt: at(0)},
      {name: 'alice', roles: ['access', 'editor'], traits: {logins: ['root', 'alice']}, createdAt: at(0)},
    ]
    assert.equal(usersTable(users), 'User  Roles         Logins\n----- ------------- ----------\nalice access,editor root,alice\nbob   access\n')
    const locked = usersTable([{...users[0]!, locked: {until: '2026-11-21T12:20:00Z', reason: 'x'}}])
    assert.match(locked, /^User Roles  Logins Status\n/)
    assert.match(locked, /locked until 2026-11-21T12:20:00Z/)
  })

  test('tokens ls: Token | Type | Expiry Time (UTC), static tokens never expire', () => {
    const table = tokensTable([
      {token: 'static-one', roles: ['node', 'proxy'], static: true},
      {token: TOKEN, roles: ['node'], expires: '2026-11-21T17:05:00.000Z', static: false},
    ])
    assert.equal(
      table,
      'Token                            Type       Expiry Time (UTC)\n' +
        '-------------------------------- ---------- -------------------\n' +
        'static-one                       node,proxy never\n' +
        `${TOKEN} node       21 Nov 26 17:05 UTC\n`,
    )
    assert.equal(tokensTable([]), 'No active tokens found.\n')
    assert.equal(rfc822(new Date('2027-01-02T03:04:59Z')), '02 Jan 27 03:04 UTC')
  })

  test('nodes ls: Host | UUID | Public Address | Labels | Version, tunnels marked', () => {
    const table = nodesTable([
      {name: 'u2', hostname: 'web', addr: '', tunnel: true, labels: {}, cmdLabels: {}, version: '0.1.0', expires: at(1)},
      {name: 'u1', hostname: 'db', addr: '10.0.0.2:3022', labels: {env: 'prod', a: 'b'}, cmdLabels: {arch: {command: ['uname', '-m'], result: 'x86_64'}}, version: '0.1.0', expires: at(1)},
    ])
    assert.equal(
      table,
      'Host UUID Public Address Labels                   Version\n' +
        '---- ---- -------------- ------------------------ -------\n' +
        'db   u1   10.0.0.2:3022  a=b,arch=x86_64,env=prod 0.1.0\n' +
        'web  u2   ⟵ Tunnel                                0.1.0\n',
    )
  })

  test('nodes ls, users ls and status show control characters escaped', () => {
    const nodes = nodesTable([{name: 'u1', hostname: 'evil\x1b[2J', addr: '10.0.0.2:3022', labels: {env: 'a\x1b]0;t\x07'}, cmdLabels: {}, version: '0.1.0', expires: at(1)}])
    assert.ok(!nodes.includes('\x1b'), nodes)
    assert.match(nodes, /^evil\\x1b\[2J u1 +10\.0\.0\.2:3022 +env=a\\x1b\]0;t\\x07 0\.1\.0$/m)
    const users = usersTable([{name: 'bob\r\x1b[1A', roles: ['access'], traits: {logins: ['root\n']}, createdAt: at(0)}])
    assert.match(users, /^bob\\r\\x1b\[1A access root\\n$/m)
  })

  test('status lists cluster, pin, CAs and counts', () => {
    const text = statusText({
      clusterName: 'example.com',
      serverVersion: '0.1.0',
      caPins: [PIN],
      authorities: [
        {type: 'host', fingerprints: ['SHA256:host'], rotationPhase: 'standby'},
        {type: 'user', fingerprints: ['SHA256:user'], rotationPhase: 'init'},
      ],
      counts: {users: 2, roles: 3, nodes: 1, tokens: 0},
    })
    assert.equal(
      text,
      'Cluster: example.com\n' +
        'Version: 0.1.0\n' +
        `CA pin:  ${PIN}\n` +
        'User CA: SHA256:user (rotation: init)\n' +
        'Host CA: SHA256:host (rotation: standby)\n' +
        'Users:   2\n' +
        'Roles:   3\n' +
        'Nodes:   1\n' +
        'Tokens:  0\n',
    )
  })

  test('auth export: user CA as plain keys, host CA as @cert-authority * lines', () => {
    const keys = {user: ['ssh-ed25519 AAAAuser comment'], host: ['ssh-ed25519 AAAAhost']}
    assert.equal(caExportText(keys, 'user'), 'ssh-ed25519 AAAAuser\n')
    assert.equal(caExportText(keys, 'host'), '@cert-authority * ssh-ed25519 AAAAhost type=host\n')
    assert.equal(caExportText(keys), 'ssh-ed25519 AAAAuser\n@cert-authority * ssh-ed25519 AAAAhost type=host\n')
  })
})
