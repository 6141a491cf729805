import assert from 'node:assert/strict'
import {describe, test} from 'node:test'
import {MemoryKeyStore} from '../../../src/client/key-store.js'
import {saveLogin} from '../../../src/client/profile.js'
import {envVariables, renderEnvExports, renderEnvUnset} from '../../../src/client/shell-env.js'
import {renderSshConfig} from '../../../src/client/ssh-config.js'
import {collectStatus, goDuration, renderStatus, statusData} from '../../../src/client/status.js'
import {tshCommandForSshConfig, tshInvocation} from '../../../src/client/tsh-invocation.js'
import {generateKeyPair} from '../../../src/sshca/index.js'
import {HOST_CA, sampleProfile, userCert} from './helpers.js'

// Output formats of tsh status, tsh config and tsh env, exactly as REFERENCE.md shows them.

const key = generateKeyPair()
const ISSUED = new Date('2026-11-21T05:00:00Z')

function storeWith(...logins: {proxy: string; user: string; issued?: Date; ttlMs?: number}[]): MemoryKeyStore {
  const store = new MemoryKeyStore()
  for (const l of logins) {
    saveLogin(store, {
      profile: sampleProfile({webProxyAddr: l.proxy, user: l.user}),
      privateKey: key.privateKey,
      publicKey: key.publicKey,
      certificate: userCert({publicKey: key.publicKey, user: l.user, now: l.issued ?? ISSUED, ttlMs: l.ttlMs ?? 12 * 3600_000}),
      hostCAs: [HOST_CA.publicKey],
    })
  }
  return store
}

describe('tsh status', () => {
  test('a valid profile, in REFERENCE.md\'s format', () => {
    const out = renderStatus(collectStatus(storeWith({proxy: 'proxy.example.com:3080', user: 'alice'}), ISSUED), ISSUED)
    assert.equal(
      out,
      [
        '> Profile URL:        https://proxy.example.com:3080',
        '  Logged in as:       alice',
        '  Cluster:            example.com',
        '  Roles:              access, editor',
        '  Logins:             root, alice',
        '  Valid until:        2026-11-21 17:00:00 +0000 UTC [valid for 12h0m0s]',
        '  Extensions:         permit-agent-forwarding, permit-port-forwarding, permit-pty',
        '',
      ].join('\n'),
    )
  })

  test('expired, and several profiles: the active one first with "> "', () => {
    const store = storeWith({proxy: 'a.example.com:3080', user: 'alice', ttlMs: 60_000}, {proxy: 'b.example.com:443', user: 'bob'})
    const now = new Date(ISSUED.getTime() + 3600_000)
    const profiles = collectStatus(store, now)
    assert.deepEqual(profiles.map((p) => [p.name, p.active, p.expired]), [['b.example.com', true, false], ['a.example.com', false, true]])
    const out = renderStatus(profiles, now)
    const blocks = out.split('\n\n')
    assert.equal(blocks.length, 2)
    assert.match(blocks[0]!, /^> Profile URL: {8}https:\/\/b\.example\.com:443\n/)
    assert.match(blocks[0]!, /Valid until: {8}2026-11-21 17:00:00 \+0000 UTC \[valid for 11h0m0s\]/)
    assert.match(blocks[1]!, /^ {2}Profile URL: {8}https:\/\/a\.example\.com:3080\n/)
    assert.match(blocks[1]!, /Valid until: {8}2026-11-21 05:01:00 \+0000 UTC \[EXPIRED\]/)
  })

  test('json: active and other profiles with Teleport\'s field names', () => {
    const data = statusData(collectStatus(storeWith({proxy: 'proxy.example.com:3080', user: 'alice'}), ISSUED))
    assert.deepEqual(data.active, {
      profile_url: 'https://proxy.example.com:3080',
      username: 'alice',
      cluster: 'example.com',
      roles: ['access', 'editor'],
      traits: {logins: ['root', 'alice']},
      logins: ['root', 'alice'],
      valid_until: '2026-11-21T17:00:00.000Z',
      expired: false,
      extensions: ['permit-agent-forwarding', 'permit-port-forwarding', 'permit-pty'],
    })
    assert.deepEqual(data.profiles, [])
  })

  test('Not logged in.', () => {
    assert.equal(renderStatus([]), 'Not logged in.\n')
  })

  test('durations read like Go\'s', () => {
    assert.equal(goDuration(12 * 3600_000), '12h0m0s')
    assert.equal(goDuration(3599_000), '59m59s')
    assert.equal(goDuration(5_000), '5s')
    assert.equal(goDuration(0), '0s')
    assert.equal(goDuration(30 * 3600_000 + 61_000), '30h1m1s')
  })
})

describe('tsh config', () => {
  test('REFERENCE.md\'s block with absolute paths and the running tsh', () => {
    const out = renderSshConfig({profile: sampleProfile(), home: '/home/alice/.tsh', tshCommand: '"/opt/tsh/bin/tsh"'})
    assert.equal(
      out,
      [
        '# Begin generated Teleport configuration for proxy.example.com by tsh',
        '',
        '# Common flags for all example.com hosts',
        'Host *.example.com proxy.example.com',
        '    UserKnownHostsFile "/home/alice/.tsh/known_hosts"',
        '    IdentityFile "/home/alice/.tsh/keys/proxy.example.com/alice"',
        '    CertificateFile "/home/alice/.tsh/keys/proxy.example.com/alice-ssh/example.com-cert.pub"',
        '',
        '# Flags for all example.com hosts except the proxy',
        'Host *.example.com !proxy.example.com',
        '    Port 3022',
        '    ProxyCommand "/opt/tsh/bin/tsh" proxy ssh --cluster=example.com --proxy=proxy.example.com:3080 %r@%h:%p',
        "    # Or without tsh: OpenSSH's ProxyJump through the proxy (comment out the ProxyCommand above)",
        '    # ProxyJump alice@proxy.example.com:3023',
        '',
        '# With no ssh-agent of your own: tsh agent, so a login on demand reaches this ssh',
        'Match host "*.example.com,!proxy.example.com" exec "test -z $SSH_AUTH_SOCK"',
        '    IdentityAgent "/home/alice/.tsh/agent.sock"',
        '',
        '# End generated Teleport configuration',
        '',
      ].join('\n'),
    )
  })

  test('recording proxy mode: the agent is forwarded, tsh agent\'s when there is no agent of your own (ssh takes the first value)', () => {
    const out = renderSshConfig({profile: sampleProfile({recordingProxy: true}), home: '/home/alice/.tsh', tshCommand: 'tsh'})
    const tail = out.slice(out.indexOf('# With no ssh-agent'))
    assert.equal(
      tail,
      [
        '# With no ssh-agent of your own: tsh agent, so a login on demand reaches this ssh',
        'Match host "*.example.com,!proxy.example.com" exec "test -z $SSH_AUTH_SOCK"',
        '    IdentityAgent "/home/alice/.tsh/agent.sock"',
        '    ForwardAgent "/home/alice/.tsh/agent.sock"',
        '',
        '# Sessions are recorded at the proxy, which logs in to the node with your forwarded agent',
        'Host *.example.com !proxy.example.com',
        '    ForwardAgent yes',
        '',
        '# End generated Teleport configuration',
        '',
      ].join('\n'),
    )
    assert.doesNotMatch(renderSshConfig({profile: sampleProfile(), home: '/h', tshCommand: 'tsh'}), /ForwardAgent/, 'not forwarded where the nodes record')
  })

  test('the tsh path: the link as run, made absolute; bin/run.js needs "tsh" after it', () => {
    assert.deepEqual(tshInvocation('/opt/x/bin/tsh'), {script: '/opt/x/bin/tsh', prefixArgs: []})
    assert.equal(tshCommandForSshConfig(tshInvocation('/opt/x/bin/run.js')), '"/opt/x/bin/run.js" tsh')
    assert.equal(tshInvocation('bin/tsh').script, `${process.cwd()}/bin/tsh`)
  })
})

describe('tsh env', () => {
  test('export and unset lines', () => {
    assert.equal(renderEnvExports(envVariables(sampleProfile())), 'export TELEPORT_PROXY=proxy.example.com:3080\nexport TELEPORT_CLUSTER=example.com\n')
    assert.equal(renderEnvUnset(), 'unset TELEPORT_PROXY\nunset TELEPORT_CLUSTER\n')
    assert.equal(renderEnvExports({X: "it's"}), `export X='it'\\''s'\n`)
  })
})
