import assert from 'node:assert/strict'
import {statSync, writeFileSync} from 'node:fs'
import path from 'node:path'
import {after, before, describe, test} from 'node:test'
import {generateKeyPair} from '../../src/sshca/index.js'
import {tctlOk} from '../helpers/cli.js'
import {freePort, startTeleport, writeAuthConfig, type TeleportDaemon} from '../helpers/daemon.js'
import {LOGIN, opensshExec, startSshd, tempDir, type Daemon} from './helpers.js'

// A plain OpenSSH sshd set up only with tctl's output, reached by OpenSSH ssh with an identity
// from `tctl auth sign --user`: the cluster CA used by stock OpenSSH on both ends.

describe('stock OpenSSH with the cluster CA via tctl', () => {
  const dir = tempDir('tctl-openssh-')
  let config: string
  let teleport: TeleportDaemon
  let sshd: Daemon
  const tctl = (...args: string[]) => tctlOk(config, ...args)

  before(async () => {
    config = writeAuthConfig(dir.path, await freePort())
    teleport = startTeleport(['-c', config])
    await teleport.waitForLog(/Auth service is starting on/)
    tctl('users', 'add', 'alice', '--roles=access', `--logins=${LOGIN}`)
    tctl('users', 'add', 'bob', '--roles=access', '--logins=somebody-else')
    tctl('auth', 'sign', '--host=localhost,127.0.0.1', '--format=openssh', `--out=${path.join(dir.path, 'host')}`)
    const userCA = tctl('auth', 'export', '--type=user')
    sshd = await startSshd({
      dir: dir.path,
      trustedUserCAKeys: userCA.split('\n').filter((l) => l.trim()),
      hostKeyPath: path.join(dir.path, 'host'),
      hostCertPath: path.join(dir.path, 'host-cert.pub'),
    })
  })
  after(async () => {
    await sshd?.stop()
    await teleport?.stop()
    dir.cleanup()
  })

  function knownHosts(): string {
    const file = path.join(dir.path, 'known_hosts')
    writeFileSync(file, tctl('auth', 'export', '--type=host'))
    return file
  }

  test('tctl auth export --type=host is an @cert-authority known_hosts line', () => {
    assert.match(tctl('auth', 'export', '--type=host'), /^@cert-authority \S+ ssh-ed25519 AAAA\S+/m)
  })

  test('ssh with an identity from tctl auth sign --user logs in, host certificate checked strictly', async () => {
    tctl('auth', 'sign', '--user=alice', `--out=${path.join(dir.path, 'alice')}`, '--ttl=1h')
    const r = await opensshExec({port: sshd.port, knownHosts: knownHosts(), identity: path.join(dir.path, 'alice'), certificate: path.join(dir.path, 'alice-cert.pub'), command: 'echo logged-in-as-$(id -un)'})
    assert.equal(r.code, 0, r.stderr)
    assert.equal(r.stdout.trim(), `logged-in-as-${LOGIN}`)
  })

  test('a user without that login is refused by sshd', async () => {
    tctl('auth', 'sign', '--user=bob', `--out=${path.join(dir.path, 'bob')}`, '--ttl=1h')
    const r = await opensshExec({port: sshd.port, knownHosts: knownHosts(), identity: path.join(dir.path, 'bob'), certificate: path.join(dir.path, 'bob-cert.pub'), command: 'true'})
    assert.notEqual(r.code, 0)
    assert.match(r.stderr, /Permission denied/)
  })

  test('a known_hosts line naming another CA makes ssh refuse the host', async () => {
    const other = path.join(dir.path, 'other_known_hosts')
    writeFileSync(other, `@cert-authority * ${generateKeyPair().publicKey}\n`)
    const r = await opensshExec({port: sshd.port, knownHosts: other, identity: path.join(dir.path, 'alice'), certificate: path.join(dir.path, 'alice-cert.pub'), command: 'true'})
    assert.notEqual(r.code, 0)
    assert.match(r.stderr, /Host key verification failed|No matching CA found/)
  })

  test('the identity files are private', () => {
    const mode = (p: string) => statSync(p).mode & 0o777
    assert.equal(mode(path.join(dir.path, 'alice')), 0o600)
    assert.equal(mode(path.join(dir.path, 'host')), 0o600)
  })
})

