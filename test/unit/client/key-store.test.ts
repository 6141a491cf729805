import assert from 'node:assert/strict'
import fs, {existsSync, readdirSync, readFileSync, statSync, writeFileSync} from 'node:fs'
import {syncBuiltinESMExports} from 'node:module'
import {join} from 'node:path'
import {after, describe, test} from 'node:test'
import {FileKeyStore, MemoryKeyStore, type KeyStore} from '../../../src/client/key-store.js'
import {certAuthorityLines, hostCAsOf, mergeKnownHosts} from '../../../src/client/known-hosts.js'
import {profileFromYaml, profileToYaml} from '../../../src/client/profile-file.js'
import {currentProfileName, loadCurrentIdentity, loadProfile, saveLogin, tshHome} from '../../../src/client/profile.js'
import {UserError} from '../../../src/lib/errors.js'
import {generateKeyPair} from '../../../src/sshca/index.js'
import {HOST_CA, sampleProfile, tempDir, userCert} from './helpers.js'

const dirs: {cleanup: () => void}[] = []
after(() => dirs.forEach((d) => d.cleanup()))
function home(): string {
  const d = tempDir()
  dirs.push(d)
  return join(d.path, '.tsh')
}

const key = generateKeyPair()
const NOW = new Date()

function login(store: KeyStore, overrides: {user?: string; webProxyAddr?: string; ttlMs?: number; certNow?: Date; privateKey?: boolean} = {}) {
  const profile = sampleProfile({...(overrides.user ? {user: overrides.user} : {}), ...(overrides.webProxyAddr ? {webProxyAddr: overrides.webProxyAddr} : {})})
  saveLogin(store, {
    profile,
    ...(overrides.privateKey === false ? {} : {privateKey: key.privateKey}),
    publicKey: key.publicKey,
    certificate: userCert({publicKey: key.publicKey, user: profile.user, ttlMs: overrides.ttlMs ?? 3600_000, ...(overrides.certNow ? {now: overrides.certNow} : {})}),
    hostCAs: [HOST_CA.publicKey],
  })
  return profile
}

describe('tsh home', () => {
  test('$TELEPORT_HOME wins, else $HOME/.tsh', () => {
    assert.equal(tshHome({TELEPORT_HOME: '/x/y'}), '/x/y')
    assert.equal(tshHome({HOME: '/home/bob'}), '/home/bob/.tsh')
  })
})

describe('file layout (REFERENCE.md "Client state")', () => {
  const dir = home()
  const store = new FileKeyStore(dir)
  login(store)

  test('paths, modes and contents', () => {
    const expected = [
      ['current-profile', 'file'],
      ['proxy.example.com.yaml', 'file'],
      ['known_hosts', 'file'],
      ['keys', 'dir'],
      ['keys/proxy.example.com', 'dir'],
      ['keys/proxy.example.com/alice', 'file'],
      ['keys/proxy.example.com/alice.pub', 'file'],
      ['keys/proxy.example.com/alice-ssh', 'dir'],
      ['keys/proxy.example.com/alice-ssh/example.com-cert.pub', 'file'],
    ] as const
    assert.equal(statSync(dir).mode & 0o777, 0o700)
    for (const [rel, kind] of expected) {
      const st = statSync(join(dir, rel))
      assert.equal(st.isDirectory(), kind === 'dir', rel)
      assert.equal(st.mode & 0o777, kind === 'dir' ? 0o700 : 0o600, `${rel} mode`)
    }
    assert.equal(readFileSync(join(dir, 'current-profile'), 'utf8'), 'proxy.example.com\n')
    assert.equal(
      readFileSync(join(dir, 'proxy.example.com.yaml'), 'utf8'),
      'web_proxy_addr: proxy.example.com:3080\nssh_proxy_addr: proxy.example.com:3023\nuser: alice\ncluster: example.com\nauth_type: local\nforward_ports: []\ndynamic_forward_ports: []\n',
    )
    assert.equal(readFileSync(join(dir, 'known_hosts'), 'utf8'), `@cert-authority proxy.example.com,example.com,*.example.com ${HOST_CA.publicKey.split(' ').slice(0, 2).join(' ')} type=host\n`)
    assert.match(readFileSync(join(dir, 'keys/proxy.example.com/alice'), 'utf8'), /^-----BEGIN OPENSSH PRIVATE KEY-----\n/)
    assert.match(readFileSync(join(dir, 'keys/proxy.example.com/alice-ssh/example.com-cert.pub'), 'utf8'), /^ssh-ed25519-cert-v01@openssh\.com AAAA\S+\n$/)
  })

  test('loadProfile / currentProfileName / loadCurrentIdentity', () => {
    assert.equal(currentProfileName(dir), 'proxy.example.com')
    assert.deepEqual(loadProfile(undefined, dir), sampleProfile())
    assert.deepEqual(loadProfile('proxy.example.com:3080', dir), sampleProfile())
    const id = loadCurrentIdentity({home: dir})
    assert.equal(id.profile.user, 'alice')
    assert.equal(id.privateKey, key.privateKey)
    assert.equal(id.publicKey, key.publicKey)
    assert.equal(id.cert.keyId, 'alice')
    assert.deepEqual(id.hostCAs, [HOST_CA.publicKey.split(' ').slice(0, 2).join(' ')])
    assert.equal(id.keyPath, join(dir, 'keys/proxy.example.com/alice'))
    assert.equal(id.certPath, join(dir, 'keys/proxy.example.com/alice-ssh/example.com-cert.pub'))
    assert.equal(id.knownHostsPath, join(dir, 'known_hosts'))
    assert.equal(id.agentOnly, undefined)
    // --proxy with or without the port finds the same profile
    assert.equal(loadCurrentIdentity({home: dir, proxy: 'proxy.example.com'}).certificate, id.certificate)
  })

  test('--proxy with another port than the one logged in to is not logged in, not the profile\'s port', () => {
    const refused = (e: unknown) => e instanceof UserError && e.message === 'Not logged in to proxy.example.com:1.' && e.hint === 'log in first: tsh login --proxy=proxy.example.com:1'
    assert.throws(() => loadCurrentIdentity({home: dir, proxy: 'proxy.example.com:1'}), refused)
    assert.throws(() => loadProfile('https://proxy.example.com:1/', dir), refused)
  })

  test('a pre-existing 0755 home is tightened to 0700 on the next write', () => {
    fs.chmodSync(dir, 0o755)
    store.setCurrentProfile('proxy.example.com')
    assert.equal(statSync(dir).mode & 0o777, 0o700)
  })
})

describe('not logged in, expired', () => {
  test('no profile: UserError "Not logged in." with a tsh login hint', () => {
    const dir = home()
    assert.throws(() => loadProfile(undefined, dir), (e: unknown) => e instanceof UserError && e.message === 'Not logged in.' && /tsh login --proxy=/.test(e.hint ?? ''))
    assert.throws(() => loadCurrentIdentity({home: dir}), /Not logged in\./)
    assert.throws(() => loadProfile('other.example.com', dir), /Not logged in to other\.example\.com\./)
  })

  test('expired certificate: UserError saying expired, with the login hint', () => {
    const store = new MemoryKeyStore()
    login(store, {ttlMs: 60_000, certNow: new Date(Date.now() - 3600_000)})
    assert.throws(
      () => loadCurrentIdentity({store}),
      (e: unknown) => e instanceof UserError && /expired/.test(e.message) && /tsh login --proxy=proxy\.example\.com:3080 --user=alice/.test(e.hint ?? ''),
    )
    assert.equal(loadCurrentIdentity({store, allowExpired: true}).cert.keyId, 'alice')
  })

  test('agent-only login: no private key on disk, identity says so', () => {
    const dir = home()
    const store = new FileKeyStore(dir)
    login(store, {privateKey: false})
    assert.equal(existsSync(join(dir, 'keys/proxy.example.com/alice')), false)
    const id = loadCurrentIdentity({home: dir})
    assert.equal(id.privateKey, '')
    assert.equal(id.agentOnly, true)
  })
})

describe('atomic writes', () => {
  test('a write that fails half-way leaves the old profile and no temp file', () => {
    const dir = home()
    const store = new FileKeyStore(dir)
    login(store)
    const before = readFileSync(join(dir, 'proxy.example.com.yaml'), 'utf8')
    const original = fs.writeSync
    fs.writeSync = (() => {
      throw Object.assign(new Error('ENOSPC: no space left on device'), {code: 'ENOSPC'})
    }) as typeof fs.writeSync
    syncBuiltinESMExports()
    try {
      assert.throws(() => store.writeProfile(sampleProfile({user: 'bob'})), /ENOSPC/)
    } finally {
      fs.writeSync = original
      syncBuiltinESMExports()
    }
    assert.equal(readFileSync(join(dir, 'proxy.example.com.yaml'), 'utf8'), before)
    assert.deepEqual(readdirSync(dir).filter((f) => f.endsWith('.tmp')), [])
  })
})

describe('FileKeyStore and MemoryKeyStore behave alike', () => {
  for (const [name, make] of [['file', () => new FileKeyStore(home())], ['memory', () => new MemoryKeyStore()]] as const) {
    test(`${name}: profiles, users, keys, deletion, known_hosts`, () => {
      const store: KeyStore = make()
      assert.equal(store.currentProfile(), undefined)
      assert.deepEqual(store.profileNames(), [])
      login(store)
      login(store, {webProxyAddr: 'other.example.net:443', user: 'bob'})
      assert.equal(store.currentProfile(), 'other.example.net')
      assert.deepEqual(store.profileNames(), ['other.example.net', 'proxy.example.com'])
      assert.deepEqual(store.users('proxy.example.com'), ['alice'])
      assert.equal(store.readKey('proxy.example.com', 'alice', 'example.com')?.privateKey, key.privateKey)
      assert.equal(store.readKey('proxy.example.com', 'nobody', 'example.com'), undefined)
      store.deleteKey('proxy.example.com', 'alice')
      assert.equal(store.readKey('proxy.example.com', 'alice', 'example.com'), undefined)
      assert.deepEqual(store.users('proxy.example.com'), [])
      store.deleteAllKeys()
      assert.equal(store.readKey('other.example.net', 'bob', 'example.com'), undefined)
      store.deleteProfile('other.example.net')
      assert.deepEqual(store.profileNames(), ['proxy.example.com'])
      store.setCurrentProfile(undefined)
      assert.equal(store.currentProfile(), undefined)
      assert.equal(store.hostCAs('example.com').length, 1)
      assert.throws(() => store.readKey('..', 'alice', 'x'), /invalid proxy host/)
      assert.throws(() => store.writeKey('proxy', '../evil', 'c', {publicKey: 'x', certificate: 'y'}), /invalid user name/)
    })
  }
})

describe('profile file', () => {
  test('values holding an escaped quote and " #" read back as written (not cut as a comment)', () => {
    const p = sampleProfile({user: 'a" #b', cluster: "it's #1", forwardPorts: ['"x" # y']})
    assert.deepEqual(profileFromYaml(profileToYaml(p)), p)
  })
  test('round trip, and Teleport-written profiles with extra keys, comments and block lists', () => {
    const p = sampleProfile({forwardPorts: ['8080:localhost:80'], dynamicForwardPorts: ['1080'], insecure: true, recordingProxy: true, tlsRoutingEnabled: true})
    assert.deepEqual(profileFromYaml(profileToYaml(p)), p)
    const teleport = [
      '# written by tsh',
      'web_proxy_addr: "proxy.example.com:443"',
      'ssh_proxy_addr: proxy.example.com:3023',
      "user: 'alice'",
      'cluster: example.com',
      'auth_type: local',
      'forward_ports:',
      '- 8080:localhost:80',
      'dynamic_forward_ports: [1080, "1081"]',
      'kube_proxy_addr: proxy.example.com:3026',
      'tls_routing_enabled: false',
    ].join('\n')
    assert.deepEqual(profileFromYaml(teleport), sampleProfile({webProxyAddr: 'proxy.example.com:443', forwardPorts: ['8080:localhost:80'], dynamicForwardPorts: ['1080', '1081']}))
  })

  test('a broken profile is a UserError naming the file', () => {
    const dir = home()
    const store = new FileKeyStore(dir)
    login(store)
    writeFileSync(join(dir, 'proxy.example.com.yaml'), 'web_proxy_addr: [unterminated\n')
    assert.throws(() => loadProfile(undefined, dir), (e: unknown) => e instanceof UserError && e.message.includes('proxy.example.com.yaml') && /not a valid tsh profile/.test(e.message))
  })
})

describe('known_hosts', () => {
  const ca1 = generateKeyPair().publicKey
  const ca2 = generateKeyPair().publicKey
  const other = generateKeyPair().publicKey
  test('one line per CA key; a new login replaces the cluster\'s lines and keeps the others', () => {
    let text = mergeKnownHosts('', 'proxy.example.com', 'example.com', [ca1])
    text = mergeKnownHosts(text, 'p2.example.org', 'example.org', [other])
    text = '# my own line\nhost.example.com ssh-ed25519 AAAA\n' + text
    text = mergeKnownHosts(text, 'proxy.example.com', 'example.com', [ca2, ca1])
    const lines = text.trimEnd().split('\n')
    assert.equal(lines.length, 5)
    assert.equal(lines[0], '# my own line')
    assert.deepEqual(hostCAsOf(text, 'example.com'), [ca2, ca1].map((k) => k.split(' ').slice(0, 2).join(' ')))
    assert.deepEqual(hostCAsOf(text, 'example.org').length, 1)
    assert.match(certAuthorityLines('p', 'c', [ca1])[0]!, /^@cert-authority p,c,\*\.c ssh-ed25519 \S+ type=host$/)
  })
})
