import {UserError} from '../lib/errors.js'
import type {KeyStore} from './key-store.js'
import {keychainRemovalCommand} from './os-keychain.js'
import {proxyHostOf} from './proxy-addr.js'

// `tsh logout`: forget keys, certificates and profiles, and take tsh's keys out of the SSH
// agent. known_hosts stays: it holds public CA keys only, and OpenSSH may still use it.

export interface LogoutOptions {
  env?: NodeJS.ProcessEnv
  debug?: (line: string) => void
  /** One line per private key left in a keychain that did not answer. */
  warn?: (line: string) => void
  platform?: NodeJS.Platform
}

/** Keys a locked or absent keychain kept: the logout went on; the user is told how to finish it. */
function reportLeftInKeychain(store: KeyStore, opts: LogoutOptions): void {
  for (const account of store.leftInKeychain ?? []) {
    opts.warn?.(`WARNING: the OS keychain did not answer (locked or not running), so it still holds the private key "${account}"; once it is unlocked, remove it with: ${keychainRemovalCommand(account, opts.platform)}`)
  }
}

async function cleanAgent(opts: LogoutOptions, user?: string): Promise<void> {
  const socket = (opts.env ?? process.env).SSH_AUTH_SOCK
  if (!socket) return
  try {
    const {removeFromAgent} = await import('./agent/teleport-keys.js')
    const removed = await removeFromAgent(socket, user)
    opts.debug?.(`removed ${removed} key(s) from the SSH agent at ${socket}`)
  } catch (err) {
    opts.debug?.(`could not clean the SSH agent at ${socket}: ${(err as Error).message}`)
  }
}

/** Every user from every proxy; returns the profile names removed. */
export async function logoutAll(store: KeyStore, opts: LogoutOptions = {}): Promise<string[]> {
  const names = store.profileNames()
  store.setCurrentProfile(undefined)
  store.deleteAllKeys()
  for (const name of names) store.deleteProfile(name)
  reportLeftInKeychain(store, opts)
  await cleanAgent(opts)
  return names
}

/** One user from one proxy; UserError when that user holds no key there. */
export async function logoutUser(store: KeyStore, proxy: string, user: string, opts: LogoutOptions = {}): Promise<{proxyHost: string}> {
  const proxyHost = proxyHostOf(proxy)
  const profile = store.readProfile(proxyHost)
  const hasKey = store.users(proxyHost).includes(user)
  if (!hasKey && profile?.user !== user) throw new UserError(`User ${user} already logged out from ${proxyHost}.`)
  store.deleteKey(proxyHost, user)
  if (profile?.user === user) {
    store.deleteProfile(proxyHost)
    if (store.currentProfile() === proxyHost) store.setCurrentProfile(undefined)
  }
  reportLeftInKeychain(store, opts)
  await cleanAgent(opts, user)
  return {proxyHost}
}
