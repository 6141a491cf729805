import assert from 'node:assert/strict'
import {chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {describe, test, type TestContext} from 'node:test'
import {formatIdentity} from '../../../src/api/identity-file.js'
import {UsageError, UserError} from '../../../src/lib/errors.js'
import {dialHost} from '../../../src/api/auth-servers.js'
import {publicHost, resolveAuthTarget} from '../../../src/tctl/connect.js'
import {chooseConfigFile, loadTctlConfig} from '../../../src/tctl/config.js'
import {generateKeyPair, signHostCert} from '../../../src/sshca/index.js'

function tempDir(t: TestContext): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'tctl-connect-'))
  t.after(() => rmSync(dir, {recursive: true, force: true}))
  return dir
}

function adminIdentityText(): {text: string; hostCA: string} {
  const ca = generateKeyPair()
  const key = generateKeyPair()
  const certificate = signHostCert({caPrivateKey: ca.privateKey, publicKey: key.publicKey, keyId: 'admin', principals: ['admin'], role: 'Admin', authority: 'example.com'})
  return {text: formatIdentity({privateKey: key.privateKey, certificate, hostCAs: [ca.publicKey]}), hostCA: ca.publicKey}
}

function writeAdminIdentity(dataDir: string): string {
  mkdirSync(path.join(dataDir, 'keys'), {recursive: true})
  const {text, hostCA} = adminIdentityText()
  writeFileSync(path.join(dataDir, 'keys', 'admin.identity'), text, {mode: 0o600})
  return hostCA
}

const noAddresses = () => [] as string[]

describe('tctl: reaching the auth service', () => {
  test('on the auth host: data dir and listen address from the config, 0.0.0.0 dialled on loopback', (t) => {
    const dir = tempDir(t)
    const hostCA = writeAdminIdentity(dir)
    const target = resolveAuthTarget({config: 'x.yaml'}, {loadConfig: () => ({dataDir: dir, authListen: {host: '0.0.0.0', port: 4025}, authServers: []}), hostAddresses: () => ['10.1.2.3']})
    assert.deepEqual(target.dial, [{host: '127.0.0.1', port: 4025}])
    assert.equal(target.advertise, '10.1.2.3:4025')
    assert.equal(target.identityFile, path.join(dir, 'keys', 'admin.identity'))
    assert.deepEqual(target.identity.hostCAs, [hostCA.trim().split(' ').slice(0, 2).join(' ')])
    assert.equal(target.configFile, 'x.yaml')
  })

  test('--auth-server overrides the dialled and advertised address', (t) => {
    const dir = tempDir(t)
    writeAdminIdentity(dir)
    const target = resolveAuthTarget({'auth-server': 'auth.example.com'}, {loadConfig: () => ({dataDir: dir, authListen: {host: '127.0.0.1', port: 3025}, authServers: []})})
    assert.deepEqual(target.dial, [{host: 'auth.example.com', port: 3025}])
    assert.equal(target.advertise, 'auth.example.com:3025')
  })

  test('several auth servers: --auth-server repeated or as a comma list, else teleport.auth_servers of the config, in order', (t) => {
    const dir = tempDir(t)
    writeAdminIdentity(dir)
    const configured = {dataDir: dir, authListen: {host: '0.0.0.0', port: 3025}, authServers: [{host: '10.0.0.1', port: 3025}, {host: '10.0.0.2', port: 4025}]}
    const fromConfig = resolveAuthTarget({}, {loadConfig: () => configured, hostAddresses: noAddresses})
    assert.deepEqual(fromConfig.dial, configured.authServers, 'the config file\'s auth_servers, not its listen address')
    assert.equal(fromConfig.advertise, '10.0.0.1:3025')
    const repeated = resolveAuthTarget({'auth-server': ['a.example.com', 'b.example.com:4025,c.example.com', 'a.example.com']}, {loadConfig: () => configured})
    assert.deepEqual(repeated.dial, [{host: 'a.example.com', port: 3025}, {host: 'b.example.com', port: 4025}, {host: 'c.example.com', port: 3025}], 'flags over the file, repeats dropped')
    assert.deepEqual(resolveAuthTarget({'auth-server': 'x:1, y:2'}, {loadConfig: () => configured}).dial, [{host: 'x', port: 1}, {host: 'y', port: 2}])
    assert.throws(() => resolveAuthTarget({'auth-server': ['a:1', 'b:99999']}, {loadConfig: () => configured}), (err) => err instanceof UsageError && /^--auth-server: invalid address/.test(err.message))
    for (const empty of ['', ' , ']) {
      assert.throws(() => resolveAuthTarget({'auth-server': empty}, {loadConfig: () => configured}), (err) => err instanceof UsageError && err.message === '--auth-server: no address given', JSON.stringify(empty))
    }
  })

  test('the config file is read with the daemon\'s loader', (t) => {
    const dir = tempDir(t)
    const file = path.join(dir, 'teleport.yaml')
    writeFileSync(file, `teleport:\n  data_dir: ${dir}/data\nauth_service:\n  listen_addr: 127.0.0.1:5025\n`)
    assert.deepEqual(loadTctlConfig(file), {dataDir: path.join(dir, 'data'), authListen: {host: '127.0.0.1', port: 5025}, authServers: []})
    assert.deepEqual(loadTctlConfig(undefined), {dataDir: '/var/lib/teleport', authListen: {host: '0.0.0.0', port: 3025}, authServers: []})
    assert.throws(() => loadTctlConfig(path.join(dir, 'missing.yaml')), /config file .*missing\.yaml does not exist/)
    writeFileSync(file, 'auth_service:\n  listen_adr: 1\n')
    assert.throws(() => loadTctlConfig(file), /teleport\.yaml:2: .*listen_adr/)
  })

  test('config file choice: -c, else TELEPORT_CONFIG_FILE when it exists, else none', (t) => {
    const dir = tempDir(t)
    const file = path.join(dir, 'teleport.yaml')
    writeFileSync(file, '')
    assert.equal(chooseConfigFile('/given.yaml', {TELEPORT_CONFIG_FILE: file}), '/given.yaml')
    assert.equal(chooseConfigFile(undefined, {TELEPORT_CONFIG_FILE: file}), file)
    assert.equal(chooseConfigFile(undefined, {TELEPORT_CONFIG_FILE: path.join(dir, 'nope.yaml')}), undefined)
    assert.equal(chooseConfigFile(undefined, {TELEPORT_CONFIG_FILE: ''}), undefined)
  })

  test('a missing data dir or identity names the problem and asks whether auth runs here', (t) => {
    const dir = tempDir(t)
    const missing = path.join(dir, 'nope')
    assert.throws(
      () => resolveAuthTarget({}, {loadConfig: () => ({dataDir: missing, authListen: {host: '0.0.0.0', port: 3025}, authServers: []}), hostAddresses: noAddresses}),
      (err: UserError) => err instanceof UserError && err.message === `the data dir ${missing} does not exist` && /auth service running on this host/.test(err.hint ?? ''),
    )
    assert.throws(
      () => resolveAuthTarget({}, {loadConfig: () => ({dataDir: dir, authListen: {host: '0.0.0.0', port: 3025}, authServers: []}), hostAddresses: noAddresses}),
      (err: UserError) => err.message === `no admin identity at ${path.join(dir, 'keys', 'admin.identity')}` && /has it started|first starts/.test(err.hint ?? ''),
    )
  })

  test('an unreadable data dir says to run as root or with -c', {skip: process.getuid?.() === 0 ? 'root reads everything' : false}, (t) => {
    const dir = tempDir(t)
    writeAdminIdentity(dir)
    chmodSync(path.join(dir, 'keys'), 0o000)
    t.after(() => chmodSync(path.join(dir, 'keys'), 0o700))
    assert.throws(
      () => resolveAuthTarget({}, {loadConfig: () => ({dataDir: dir, authListen: {host: '0.0.0.0', port: 3025}, authServers: []})}),
      (err: UserError) => /no permission to read/.test(err.message) && /root/.test(err.hint ?? '') && /-c/.test(err.hint ?? ''),
    )
  })

  test('--identity needs --auth-server (a usage error) and uses that file', (t) => {
    const dir = tempDir(t)
    const file = path.join(dir, 'ci.identity')
    writeFileSync(file, adminIdentityText().text)
    assert.throws(() => resolveAuthTarget({identity: file}), (err) => err instanceof UsageError && /--auth-server is required with --identity/.test(err.message))
    const target = resolveAuthTarget({identity: file, 'auth-server': '10.0.0.1:3025'})
    assert.equal(target.identityFile, file)
    assert.deepEqual(target.dial, [{host: '10.0.0.1', port: 3025}])
    assert.throws(() => resolveAuthTarget({identity: path.join(dir, 'nope'), 'auth-server': 'a:1'}), /identity file .*nope does not exist/)
    assert.throws(() => resolveAuthTarget({identity: file, 'auth-server': 'a:99999'}), (err) => err instanceof UsageError && /--auth-server: invalid address/.test(err.message))
  })

  test('wildcard listen addresses', () => {
    assert.equal(dialHost('0.0.0.0'), '127.0.0.1')
    assert.equal(dialHost('::'), '::1')
    assert.equal(dialHost('10.0.0.1'), '10.0.0.1')
    assert.equal(publicHost('0.0.0.0', () => ['fd00::1', '192.168.1.5']), '192.168.1.5')
    assert.equal(publicHost('0.0.0.0', () => []), '127.0.0.1')
    assert.equal(publicHost('auth.example.com', () => ['192.168.1.5']), 'auth.example.com')
  })
})
