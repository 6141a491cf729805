import assert from 'node:assert/strict'
import {execFile, spawnSync} from 'node:child_process'
import {mkdtempSync, readFileSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {after, before, describe, test} from 'node:test'
import {startIdentityAgent} from '../../../src/client/agent/identity-agent.js'
import {logoutAll} from '../../../src/client/logout.js'
import {openKeyStore} from '../../../src/client/open-key-store.js'
import {OsKeychain} from '../../../src/client/os-keychain.js'
import {loadCurrentIdentity, saveLogin} from '../../../src/client/profile.js'
import {generateKeyPair} from '../../../src/sshca/index.js'
import {runBin, repoRoot} from '../../helpers/cli.js'
import {HOST_CA, sampleProfile, userCert} from '../../unit/client/helpers.js'
import {startSecretService, type SecretService} from './secret-service.js'

// The keychain key store against a real Secret Service (gnome-keyring on a private D-Bus session
// bus, unlocked by the test): the private key is in the keyring and nowhere under ~/.tsh, and tsh
// still signs with it (OpenSSH's ssh-add -T through tsh's agent); logout deletes it. bin/tsh with
// no keychain answering: --key-store=keychain fails in one line, auto falls back saying so once.

const TSH = path.join(repoRoot, 'bin', 'tsh')

function sshAdd(args: string[], env: NodeJS.ProcessEnv): Promise<{code: number; stdout: string; stderr: string}> {
  return new Promise((resolve) => {
    execFile('ssh-add', args, {env, timeout: 30_000}, (err, stdout, stderr) => resolve({code: err ? Number((err as {code?: number}).code ?? 1) : 0, stdout, stderr}))
  })
}

describe('KeychainKeyStore with gnome-keyring', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'tsh-keychain-'))
  const home = path.join(dir, '.tsh')
  const key = generateKeyPair()
  let service: SecretService
  let savedBus: string | undefined

  before(async () => {
    service = await startSecretService(dir)
    savedBus = process.env.DBUS_SESSION_BUS_ADDRESS
    // The keyring library reads the bus address from this process's environment.
    process.env.DBUS_SESSION_BUS_ADDRESS = service.busAddress
  })
  after(async () => {
    if (savedBus === undefined) delete process.env.DBUS_SESSION_BUS_ADDRESS
    else process.env.DBUS_SESSION_BUS_ADDRESS = savedBus
    await service?.stop()
    rmSync(dir, {recursive: true, force: true})
  })

  test('login with key_store keychain: no private key under ~/.tsh, the keyring holds it', () => {
    const store = openKeyStore({home, mode: 'keychain'})
    assert.equal(store.writeTo, 'keychain')
    saveLogin(store, {profile: sampleProfile(), privateKey: key.privateKey, publicKey: key.publicKey, certificate: userCert({publicKey: key.publicKey}), hostCAs: [HOST_CA.publicKey]})

    const files = spawnSync('find', [home, '-type', 'f'], {encoding: 'utf8'}).stdout.trim().split('\n')
    assert.ok(files.some((f) => f.endsWith('-cert.pub')), files.join('\n'))
    for (const file of files) assert.doesNotMatch(readFileSync(file, 'utf8'), /PRIVATE KEY/, file)
    assert.match(readFileSync(path.join(home, 'proxy.example.com.yaml'), 'utf8'), /^private_key_store: keychain$/m)
    assert.equal(new OsKeychain().get(store.account('proxy.example.com', 'alice')), key.privateKey)
  })

  test('tsh still signs with it: its agent, opened afresh, passes OpenSSH\'s ssh-add -T', async () => {
    assert.equal(loadCurrentIdentity({home}).privateKey, key.privateKey)
    const agent = await startIdentityAgent({socketPath: path.join(dir, 'agent.sock'), home})
    try {
      const certFile = openKeyStore({home}).paths('proxy.example.com', 'alice', 'example.com').certPath
      const env = {...process.env, SSH_AUTH_SOCK: agent.socketPath}
      // Asynchronously: the agent answers from this process.
      const listed = await sshAdd(['-l'], env)
      assert.match(listed.stdout, /teleport:alice \(ED25519-CERT\)/, listed.stderr)
      const tested = await sshAdd(['-T', certFile], env)
      assert.equal(tested.code, 0, tested.stdout + tested.stderr)
    } finally {
      await agent.close()
    }
  })

  test('logout deletes the key from the keyring', async () => {
    const account = openKeyStore({home}).account('proxy.example.com', 'alice')
    await logoutAll(openKeyStore({home}), {env: {}})
    assert.equal(new OsKeychain().get(account), undefined)
  })

  test('bin/tsh logout with the keychain gone: profile and certificate removed, one line on removing the entry, which works', () => {
    const lockedHome = path.join(dir, 'locked-tsh')
    const store = openKeyStore({home: lockedHome, mode: 'keychain'})
    saveLogin(store, {profile: sampleProfile(), privateKey: key.privateKey, publicKey: key.publicKey, certificate: userCert({publicKey: key.publicKey}), hostCAs: [HOST_CA.publicKey]})
    const account = store.account('proxy.example.com', 'alice')
    const env = {TELEPORT_HOME: lockedHome, HOME: dir, DBUS_SESSION_BUS_ADDRESS: `unix:path=${path.join(dir, 'no-bus-here')}`, SSH_AUTH_SOCK: ''}
    const r = runBin(TSH, ['logout'], {env})
    assert.equal(r.code, 0, r.stderr)
    assert.equal(r.stdout, 'Logged out all users from all proxies.\n')
    const lines = r.stderr.split('\n').filter(Boolean)
    assert.equal(lines.length, 1, r.stderr)
    assert.match(lines[0]!, /^WARNING: the OS keychain did not answer \(locked or not running\), so it still holds the private key ".*"; once it is unlocked, remove it with: secret-tool clear service 'Teleport tsh' username '.*'$/)
    const files = spawnSync('find', [lockedHome, '-type', 'f'], {encoding: 'utf8'}).stdout.trim().split('\n').filter(Boolean)
    assert.deepEqual(files.filter((f) => /\.yaml$|-cert\.pub$|current-profile/.test(f)), [], files.join('\n'))
    // The entry is still in the keyring, filed under exactly the attributes the command names.
    assert.equal(new OsKeychain().get(account), key.privateKey)
    const found = spawnSync('gdbus', ['call', '--session', '--dest', 'org.freedesktop.secrets', '--object-path', '/org/freedesktop/secrets', '--method', 'org.freedesktop.Secret.Service.SearchItems', `{'service': 'Teleport tsh', 'username': '${account}'}`], {encoding: 'utf8', env: {...process.env, DBUS_SESSION_BUS_ADDRESS: service.busAddress}})
    assert.match(found.stdout, /^\(\[objectpath '\/org\/freedesktop\/secrets\/collection\/[^']+'\]/, found.stdout + found.stderr)
    new OsKeychain().delete(account)
  })

  test('bin/tsh with no keychain answering: keychain fails in one line; auto falls back, said once', () => {
    const env = {TELEPORT_HOME: path.join(dir, 'other-tsh'), HOME: dir, DBUS_SESSION_BUS_ADDRESS: `unix:path=${path.join(dir, 'no-bus-here')}`, TELEPORT_GLOBAL_TSH_CONFIG: path.join(dir, 'none.yaml')}
    const strict = runBin(TSH, ['login', '--proxy=127.0.0.1:9', '--user=alice', '--key-store=keychain'], {env, input: ''})
    assert.equal(strict.code, 1)
    assert.match(strict.stderr, /^ERROR: the OS keychain did not answer \(storing a key\): .*\(unlock or start the keychain .*--key-store=file\)\n$/)
    const auto = runBin(TSH, ['login', '--proxy=127.0.0.1:9', '--user=alice', '--key-store=auto'], {env, input: ''})
    const warnings = auto.stderr.split('\n').filter((l) => l.startsWith('WARNING: no OS keychain answers'))
    assert.equal(warnings.length, 1, auto.stderr)
    assert.match(warnings[0]!, /the private key is kept in .*other-tsh/)
    // Then on to the proxy, which is not there: the login went on with files.
    assert.match(auto.stderr, /ERROR: .*127\.0\.0\.1:9/)
  })
})
