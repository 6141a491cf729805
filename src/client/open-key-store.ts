import {FileKeyStore} from './key-store.js'
import {KeychainKeyStore} from './keychain-key-store.js'
import {KeychainUnavailableError, OsKeychain, type SecretVault} from './os-keychain.js'
import {tshHome} from './tsh-home.js'

// The KeyStore tsh commands use: ~/.tsh on disk, private keys in the OS keychain where a profile
// says so. `mode` says where a login puts a new key (--key-store, key_store in the config file):
// file; keychain (fails in one line when no keychain answers); auto (the keychain when one
// answers, else files, said once on stderr). Without a mode, a new key goes where the current
// profile's key is, so a login again keeps the user's choice.

export type KeyStoreMode = 'auto' | 'file' | 'keychain'

export interface OpenKeyStoreOptions {
  home?: string
  mode?: KeyStoreMode
  /** Default: the OS keychain. */
  vault?: SecretVault
  warn?: (line: string) => void
}

export function openKeyStore(opts: OpenKeyStoreOptions = {}): KeychainKeyStore {
  const files = new FileKeyStore(opts.home ?? tshHome())
  const vault = opts.vault ?? new OsKeychain()
  return new KeychainKeyStore(files, vault, writeTarget(files, vault, opts))
}

function writeTarget(files: FileKeyStore, vault: SecretVault, opts: OpenKeyStoreOptions): 'keychain' | 'file' {
  switch (opts.mode) {
    case 'file':
      return 'file'
    case 'keychain':
      vault.probe()
      return 'keychain'
    case 'auto':
      try {
        vault.probe()
        return 'keychain'
      } catch (err) {
        if (!(err instanceof KeychainUnavailableError)) throw err
        opts.warn?.(`WARNING: no OS keychain answers, so the private key is kept in ${files.home} (${err.message})`)
        return 'file'
      }
    default: {
      const current = files.currentProfile()
      return current && files.readProfile(current)?.keyInKeychain ? 'keychain' : 'file'
    }
  }
}
