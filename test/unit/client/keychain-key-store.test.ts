import assert from 'node:assert/strict'
import {existsSync, readdirSync, readFileSync} from 'node:fs'
import {join} from 'node:path'
import {after, describe, test} from 'node:test'
import {FileKeyStore} from '../../../src/client/key-store.js'
import {KeychainKeyStore} from '../../../src/client/keychain-key-store.js'
import {loginWithConfig} from '../../../src/client/login-flow.js'
import {logoutAll, logoutUser} from '../../../src/client/logout.js'
import {openKeyStore} from '../../../src/client/open-key-store.js'
import {KeychainUnavailableError, keychainRemovalCommand, MemoryVault} from '../../../src/client/os-keychain.js'
import {loadCurrentIdentity, saveLogin} from '../../../src/client/profile.js'
import {generateKeyPair} from '../../../src/sshca/index.js'
import {HOST_CA, sampleProfile, tempDir, userCert} from './helpers.js'

// KeychainKeyStore over the real file store and the vault's memory twin; the same store against
// a real gnome-keyring is test/integration/tsh/keychain.test.ts.

const dirs: {cleanup: () => void}[] = []
after(() => dirs.forEach((d) => d.cleanup()))
function home(): string {
  const d = tempDir()
  dirs.push(d)
  return join(d.path, '.tsh')
}

const key = generateKeyPair()

function login(store: KeychainKeyStore | FileKeyStore, user = 'alice') {
  const profile = sampleProfile({user})
  saveLogin(store, {profile, privateKey: key.privateKey, publicKey: key.publicKey, certificate: userCert({publicKey: key.publicKey, user}), hostCAs: [HOST_CA.publicKey]})
}

/** Every file under dir with its content. */
function filesUnder(dir: string): Map<string, string> {
  const out = new Map<string, string>()
  for (const entry of readdirSync(dir, {recursive: true, withFileTypes: true})) {
    if (entry.isFile()) out.set(join(entry.parentPath, entry.name), readFileSync(join(entry.parentPath, entry.name), 'utf8'))
  }
  return out
}

describe('KeychainKeyStore', () => {
  test('keychain: the private key goes to the vault, nothing private on disk, the profile says where', () => {
    const dir = home()
    const vault = new MemoryVault()
    const store = new KeychainKeyStore(new FileKeyStore(dir), vault, 'keychain')
    login(store)
    assert.deepEqual([...vault.entries.values()], [key.privateKey])
    for (const [file, text] of filesUnder(dir)) assert.doesNotMatch(text, /PRIVATE KEY/, file)
    assert.match(readFileSync(join(dir, 'proxy.example.com.yaml'), 'utf8'), /^private_key_store: keychain$/m)
    // A reader opened afresh, with no mode, finds the key through the profile's marker.
    const identity = loadCurrentIdentity({store: openKeyStore({home: dir, vault})})
    assert.equal(identity.privateKey, key.privateKey)
    assert.equal(identity.agentOnly, undefined)
    // A plain file store sees no private key: the key is not on disk.
    assert.equal(new FileKeyStore(dir).readKey('proxy.example.com', 'alice', 'example.com')?.privateKey, undefined)
  })

  test('logging in again with file moves the key out of the vault and drops the marker', () => {
    const dir = home()
    const vault = new MemoryVault()
    login(new KeychainKeyStore(new FileKeyStore(dir), vault, 'keychain'))
    login(new KeychainKeyStore(new FileKeyStore(dir), vault, 'file'))
    assert.equal(vault.entries.size, 0)
    assert.doesNotMatch(readFileSync(join(dir, 'proxy.example.com.yaml'), 'utf8'), /private_key_store/)
    assert.equal(readFileSync(join(dir, 'keys/proxy.example.com/alice'), 'utf8').trim(), key.privateKey.trim())
  })

  test('no mode keeps the current profile\'s choice', () => {
    const dir = home()
    const vault = new MemoryVault()
    assert.equal(openKeyStore({home: dir, vault}).writeTo, 'file')
    login(new KeychainKeyStore(new FileKeyStore(dir), vault, 'keychain'))
    assert.equal(openKeyStore({home: dir, vault}).writeTo, 'keychain')
  })

  test('logout deletes the key from the vault (one user, and everyone)', async () => {
    const dir = home()
    const vault = new MemoryVault()
    login(new KeychainKeyStore(new FileKeyStore(dir), vault, 'keychain'))
    await logoutUser(openKeyStore({home: dir, vault}), 'proxy.example.com', 'alice', {env: {}})
    assert.equal(vault.entries.size, 0)
    login(new KeychainKeyStore(new FileKeyStore(dir), vault, 'keychain'))
    assert.equal(vault.entries.size, 1)
    await logoutAll(openKeyStore({home: dir, vault}), {env: {}})
    assert.equal(vault.entries.size, 0)
  })

  for (const which of ['one user', 'everyone'] as const) {
    test(`logout (${which}) with a locked keychain: profile and certificate gone, one line on how to remove the entry`, async () => {
      const dir = home()
      const vault = new MemoryVault()
      login(new KeychainKeyStore(new FileKeyStore(dir), vault, 'keychain'))
      vault.available = false // locked, or its daemon gone
      const warnings: string[] = []
      const store = openKeyStore({home: dir, vault})
      const opts = {env: {}, warn: (l: string) => warnings.push(l), platform: 'linux' as const}
      if (which === 'one user') await logoutUser(store, 'proxy.example.com', 'alice', opts)
      else await logoutAll(store, opts)
      assert.deepEqual([...filesUnder(dir).keys()].filter((f) => /proxy\.example\.com\.yaml$|-cert\.pub$/.test(f)), [])
      assert.equal(new FileKeyStore(dir).currentProfile(), undefined)
      assert.equal(warnings.length, 1, warnings.join('\n'))
      const account = store.account('proxy.example.com', 'alice')
      assert.equal(
        warnings[0],
        `WARNING: the OS keychain did not answer (locked or not running), so it still holds the private key "${account}"; once it is unlocked, remove it with: secret-tool clear service 'Teleport tsh' username '${account}'`,
      )
      assert.deepEqual([...vault.entries.keys()], [account], 'the entry is still there: the warning is true')
      // Unlocked again, the command's entry is the one to remove; a new logout finds nothing left.
      vault.available = true
      await assert.rejects(logoutUser(openKeyStore({home: dir, vault}), 'proxy.example.com', 'alice', opts), /already logged out/)
    })
  }

  test('the removal command for each OS, quoted for its shell', () => {
    const account = "o'brien@proxy (/home/o b/.tsh)"
    assert.equal(keychainRemovalCommand(account, 'linux'), `secret-tool clear service 'Teleport tsh' username 'o'\\''brien@proxy (/home/o b/.tsh)'`)
    assert.equal(keychainRemovalCommand(account, 'darwin'), `security delete-generic-password -s 'Teleport tsh' -a 'o'\\''brien@proxy (/home/o b/.tsh)'`)
    assert.equal(keychainRemovalCommand('a@p (C:\\t)', 'win32'), 'cmdkey /delete:"a@p (C:\\t).Teleport tsh"')
  })

  test('a file-store profile never asks the keychain (a machine without one keeps working)', () => {
    const dir = home()
    login(new FileKeyStore(dir))
    const none = new MemoryVault(false)
    assert.equal(loadCurrentIdentity({store: openKeyStore({home: dir, vault: none})}).privateKey, key.privateKey)
  })

  test('--key-store=keychain with no keychain: one clear error; auto: files, said once', () => {
    const dir = home()
    const none = new MemoryVault(false)
    assert.throws(() => openKeyStore({home: dir, mode: 'keychain', vault: none}), KeychainUnavailableError)
    const warnings: string[] = []
    const store = openKeyStore({home: dir, mode: 'auto', vault: none, warn: (l) => warnings.push(l)})
    assert.equal(store.writeTo, 'file')
    assert.equal(warnings.length, 1)
    assert.match(warnings[0]!, /^WARNING: no OS keychain answers, so the private key is kept in /)
    assert.equal(openKeyStore({home: dir, mode: 'auto', vault: new MemoryVault()}).writeTo, 'keychain')
  })

  test('a keychain profile whose keychain stopped answering: the one-line error says so', () => {
    const dir = home()
    const vault = new MemoryVault()
    login(new KeychainKeyStore(new FileKeyStore(dir), vault, 'keychain'))
    vault.available = false
    assert.throws(() => loadCurrentIdentity({store: openKeyStore({home: dir, vault})}), /the OS keychain did not answer/)
  })

  test('tsh login --key-store with a valid login elsewhere moves the key there, asking nothing', async () => {
    const dir = home()
    login(new FileKeyStore(dir))
    const vault = new MemoryVault()
    const warnings: string[] = []
    const base = {home: dir, env: {TELEPORT_HOME: dir, TELEPORT_GLOBAL_TSH_CONFIG: join(dir, 'no-site.yaml')}, vault, warn: (l: string) => warnings.push(l), debug: () => {}}
    const keyFile = join(dir, 'keys/proxy.example.com/alice')

    assert.equal((await loginWithConfig({...base, keyStore: 'keychain'})).outcome.kind, 'already-logged-in')
    assert.deepEqual([...vault.entries.values()], [key.privateKey])
    assert.equal(existsSync(keyFile), false)
    assert.match(readFileSync(join(dir, 'proxy.example.com.yaml'), 'utf8'), /^private_key_store: keychain$/m)

    await loginWithConfig({...base, keyStore: 'file'})
    assert.equal(vault.entries.size, 0)
    assert.equal(readFileSync(keyFile, 'utf8').trim(), key.privateKey.trim())
    assert.deepEqual(warnings, ['Moved the private key into the OS keychain.', `Moved the private key out of the OS keychain into ${dir}.`])
  })
})
