import {createRequire} from 'node:module'
import {UserError} from '../lib/errors.js'

// The OS keychain (Secret Service on Linux, Keychain on macOS, Credential Manager on Windows)
// through @napi-rs/keyring, the maintained successor of keytar. The native addon is loaded on
// the first call, never at start: `tsh status` and `--help` load no native code.

/** Secrets by account name, for one service; what KeychainKeyStore keeps private keys in. */
export interface SecretVault {
  /** undefined when there is no such entry. */
  get(account: string): string | undefined
  set(account: string, secret: string): void
  delete(account: string): void
  /** Throws KeychainUnavailableError unless a write and a delete go through. */
  probe(): void
}

export class KeychainUnavailableError extends UserError {
  override name = 'KeychainUnavailableError'
}

interface KeyringEntry {
  getPassword(): string | null
  setPassword(password: string): void
  deletePassword(): boolean
}
type EntryClass = new (service: string, account: string, options?: {linux?: {store?: 'secret-service' | 'keyutils'}}) => KeyringEntry

let entryClass: EntryClass | undefined
function loadEntry(): EntryClass {
  entryClass ??= (createRequire(import.meta.url)('@napi-rs/keyring') as {Entry: EntryClass}).Entry
  return entryClass
}

const PROBE_ACCOUNT = 'tsh-keychain-probe'

/** The service name tsh's keychain entries are filed under. */
export const KEYCHAIN_SERVICE = 'Teleport tsh'

/**
 * The command that removes one entry by hand, for this OS (what @napi-rs/keyring files it as:
 * Secret Service attributes service/username, a Keychain generic password, a Windows credential
 * named `<account>.<service>`).
 */
export function keychainRemovalCommand(account: string, platform: NodeJS.Platform = process.platform, service = KEYCHAIN_SERVICE): string {
  const q = (v: string) => `'${v.replace(/'/g, `'\\''`)}'`
  if (platform === 'darwin') return `security delete-generic-password -s ${q(service)} -a ${q(account)}`
  if (platform === 'win32') return `cmdkey /delete:"${account}.${service}"`
  return `secret-tool clear service ${q(service)} username ${q(account)}`
}

export class OsKeychain implements SecretVault {
  constructor(readonly service = KEYCHAIN_SERVICE) {}

  private entry(account: string): KeyringEntry {
    const Entry = loadEntry()
    // Pinned to the Secret Service: left to itself the library falls back, with no Secret Service
    // running, to the kernel's keyring, which forgets at reboot and where reads and deletes
    // answer "no such entry", so a logout would silently leave the real entry behind.
    return new Entry(this.service, account, {linux: {store: 'secret-service'}})
  }

  private call<T>(what: string, work: () => T): T {
    try {
      return work()
    } catch (err) {
      throw new KeychainUnavailableError(`the OS keychain did not answer (${what}): ${(err as Error).message}`, {
        hint: 'unlock or start the keychain (on Linux a Secret Service such as gnome-keyring), or log in with --key-store=file',
      })
    }
  }

  get(account: string): string | undefined {
    return this.call('reading a key', () => this.entry(account).getPassword() ?? undefined)
  }

  set(account: string, secret: string): void {
    this.call('storing a key', () => this.entry(account).setPassword(secret))
  }

  delete(account: string): void {
    this.call('deleting a key', () => this.entry(account).deletePassword())
  }

  probe(): void {
    // Reads answer "nothing there" even where no keychain runs; only a write tells.
    this.set(PROBE_ACCOUNT, 'probe')
    this.delete(PROBE_ACCOUNT)
  }
}

/** The in-memory twin, for tests; `available: false` acts as a machine with no keychain. */
export class MemoryVault implements SecretVault {
  readonly entries = new Map<string, string>()
  constructor(public available = true) {}
  private check(): void {
    if (!this.available) throw new KeychainUnavailableError('the OS keychain did not answer: no keychain in memory')
  }
  get(account: string): string | undefined {
    this.check()
    return this.entries.get(account)
  }
  set(account: string, secret: string): void {
    this.check()
    this.entries.set(account, secret)
  }
  delete(account: string): void {
    this.check()
    this.entries.delete(account)
  }
  probe(): void {
    this.check()
  }
}
