import type {KeyPaths, KeyStore, StoredKey} from './key-store.js'
import {KeychainUnavailableError, type SecretVault} from './os-keychain.js'
import type {Profile} from './profile-file.js'
import {proxyHostOf} from './proxy-addr.js'

// A KeyStore that keeps private keys in the OS keychain and everything else (profile,
// certificate, public key, known_hosts) in the file store it wraps. The profile says where its
// user's key is (`private_key_store: keychain`), so every reader (tsh ssh, tsh proxy ssh, tsh
// agent, logout) finds it through this one seam, whichever way the login was made; the keychain
// is only asked when a profile says so. `writeTo` is where new keys go (tsh login --key-store).

export class KeychainKeyStore implements KeyStore {
  /** Accounts whose key this store moved into, or out of, the keychain since it was opened. */
  private readonly moved = new Map<string, boolean>()
  /**
   * Accounts a delete could not take out of the keychain (locked, or not running): the files
   * were deleted all the same, and logout tells the user how to remove these.
   */
  readonly leftInKeychain: string[] = []

  constructor(
    private readonly files: KeyStore,
    private readonly vault: SecretVault,
    readonly writeTo: 'keychain' | 'file',
  ) {}

  get home(): string {
    return this.files.home
  }

  /** One entry per tsh home, proxy and user. */
  account(proxyHost: string, user: string): string {
    return `${user}@${proxyHost} (${this.files.home})`
  }

  /** Whether the proxy's profile says its user's key is in the keychain. */
  private inKeychain(proxyHost: string, user: string): boolean {
    const moved = this.moved.get(this.account(proxyHost, user))
    if (moved !== undefined) return moved
    const profile = this.files.readProfile(proxyHost)
    return profile?.keyInKeychain === true && profile.user === user
  }

  paths(proxyHost: string, user: string, cluster: string): KeyPaths {
    return this.files.paths(proxyHost, user, cluster)
  }
  currentProfile(): string | undefined {
    return this.files.currentProfile()
  }
  setCurrentProfile(name: string | undefined): void {
    this.files.setCurrentProfile(name)
  }
  profileNames(): string[] {
    return this.files.profileNames()
  }
  readProfile(name: string): Profile | undefined {
    return this.files.readProfile(name)
  }

  writeProfile(profile: Profile): void {
    const {keyInKeychain: _, ...rest} = profile
    const inKeychain = this.inKeychain(proxyHostOf(profile.webProxyAddr), profile.user)
    this.files.writeProfile(inKeychain ? {...rest, keyInKeychain: true} : rest)
  }

  deleteProfile(name: string): void {
    this.files.deleteProfile(name)
  }
  users(proxyHost: string): string[] {
    return this.files.users(proxyHost)
  }

  readKey(proxyHost: string, user: string, cluster: string): StoredKey | undefined {
    const key = this.files.readKey(proxyHost, user, cluster)
    if (!key || key.privateKey !== undefined || !this.inKeychain(proxyHost, user)) return key
    const privateKey = this.vault.get(this.account(proxyHost, user))
    return privateKey === undefined ? key : {...key, privateKey}
  }

  writeKey(proxyHost: string, user: string, cluster: string, key: StoredKey & {certificate: string}): void {
    const account = this.account(proxyHost, user)
    if (key.privateKey !== undefined && this.writeTo === 'keychain') {
      // Into the keychain first; the file store then removes any key file left from before.
      this.vault.set(account, key.privateKey)
      const {privateKey: _, ...onDisk} = key
      this.files.writeKey(proxyHost, user, cluster, onDisk)
      this.moved.set(account, true)
      this.markProfile(proxyHost, user, true)
      return
    }
    if (this.inKeychain(proxyHost, user)) this.vault.delete(account)
    this.files.writeKey(proxyHost, user, cluster, key)
    this.moved.set(account, false)
    this.markProfile(proxyHost, user, false)
  }

  /** Keeps an existing profile's marker true to where its user's key now is. */
  private markProfile(proxyHost: string, user: string, inKeychain: boolean): void {
    const profile = this.files.readProfile(proxyHost)
    if (profile && profile.user === user && Boolean(profile.keyInKeychain) !== inKeychain) this.writeProfile(profile)
  }

  deleteKey(proxyHost: string, user: string): void {
    this.deleteFromKeychain(proxyHost, user)
    this.files.deleteKey(proxyHost, user)
    this.moved.delete(this.account(proxyHost, user))
  }

  deleteProxyKeys(proxyHost: string): void {
    for (const user of this.users(proxyHost)) this.deleteFromKeychain(proxyHost, user)
    this.files.deleteProxyKeys(proxyHost)
  }

  deleteAllKeys(): void {
    for (const name of this.profileNames()) for (const user of this.users(name)) this.deleteFromKeychain(name, user)
    this.files.deleteAllKeys()
  }

  /** A keychain that does not answer leaves its entry (noted in leftInKeychain), not the rest. */
  private deleteFromKeychain(proxyHost: string, user: string): void {
    if (!this.inKeychain(proxyHost, user)) return
    const account = this.account(proxyHost, user)
    try {
      this.vault.delete(account)
    } catch (err) {
      if (!(err instanceof KeychainUnavailableError)) throw err
      this.leftInKeychain.push(account)
    }
  }

  readProxyCertificate(proxyHost: string): string | undefined {
    return this.files.readProxyCertificate(proxyHost)
  }
  writeProxyCertificate(proxyHost: string, pem: string): void {
    this.files.writeProxyCertificate(proxyHost, pem)
  }
  readTlsCAs(proxyHost: string, cluster: string): string | undefined {
    return this.files.readTlsCAs(proxyHost, cluster)
  }
  writeTlsCAs(proxyHost: string, cluster: string, pem: string): void {
    this.files.writeTlsCAs(proxyHost, cluster, pem)
  }
  readKnownHosts(): string {
    return this.files.readKnownHosts()
  }
  trustHostCAs(proxyHost: string, cluster: string, caKeys: string[]): void {
    this.files.trustHostCAs(proxyHost, cluster, caKeys)
  }
  hostCAs(cluster: string): string[] {
    return this.files.hostCAs(cluster)
  }
}
