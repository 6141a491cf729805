import {rmSync} from 'node:fs'
import {readTshConfig} from './config/index.js'
import {extraHeadersFor} from './config/extra-headers.js'
import type {AddKeysMode} from './agent/add-keys-mode.js'
import {tshAgentSocket} from './agent/teleport-keys.js'
import type {KeyStore} from './key-store.js'
import type {ShowWaiting} from '../lib/progress/spinner.js'
import {login, type LoginOutcome, type Prompter} from './login.js'
import type {KeychainKeyStore} from './keychain-key-store.js'
import {openKeyStore, type KeyStoreMode} from './open-key-store.js'
import type {SecretVault} from './os-keychain.js'
import type {Profile} from './profile-file.js'
import {proxyHostOf} from './proxy-addr.js'
import {tshHome} from './tsh-home.js'

// The one login sequence: `tsh login`, and every command that logs in on demand
// (login-on-demand.ts). Flags win over the config file (~/.tsh/config/config.yaml over the site's),
// which wins over the built-in defaults.

export interface LoginFlowOptions {
  proxy?: string
  user?: string
  ttlMinutes?: number
  insecure?: boolean
  authType?: string
  addKeysToAgent?: AddKeysMode
  keyStore?: KeyStoreMode
  /** Undefined without a terminal: the login then fails saying so. */
  prompter?: Prompter
  warn: (line: string) => void
  debug: (line: string) => void
  env?: NodeJS.ProcessEnv
  /** Default: tshHome(env). */
  home?: string
  /** Tests: trusted CA certificates for the proxy. */
  ca?: string[]
  /** Tests: the keychain's twin. */
  vault?: SecretVault
  /** Shows the waits on the proxy (tsh login's spinner). */
  waiting?: ShowWaiting
}

export async function loginWithConfig(opts: LoginFlowOptions): Promise<{store: KeyStore; outcome: LoginOutcome}> {
  const env = opts.env ?? process.env
  const config = await readTshConfig(env)
  // Opened first: a keychain that does not answer fails before anything is asked.
  const mode = opts.keyStore ?? config.keyStore
  const store = openKeyStore({home: opts.home ?? tshHome(env), ...(mode ? {mode} : {}), ...(opts.vault ? {vault: opts.vault} : {}), warn: opts.warn})
  const proxy = opts.proxy ?? config.proxy
  const user = opts.user ?? config.user
  const outcome = await login({
    store,
    ...(proxy ? {proxy} : {}),
    ...(user ? {user} : {}),
    ...(opts.ttlMinutes !== undefined ? {ttlMinutes: opts.ttlMinutes} : {}),
    ...(opts.insecure ? {insecure: true} : {}),
    ...(opts.authType ? {authType: opts.authType} : {}),
    addKeysToAgent: opts.addKeysToAgent ?? config.addKeysToAgent ?? 'auto',
    ...(opts.prompter ? {prompter: opts.prompter} : {}),
    warn: opts.warn,
    debug: opts.debug,
    env,
    headersFor: (addr) => extraHeadersFor(config, addr),
    startAgent: (profile) => startTshAgent(store.home, proxyHostOf(profile.webProxyAddr), profile.user),
    ...(opts.ca ? {ca: opts.ca} : {}),
    ...(opts.waiting ? {waiting: opts.waiting} : {}),
  })
  if (outcome.kind === 'already-logged-in' && mode) moveKey(store, outcome.profile, opts.warn)
  return {store, outcome}
}

/** A valid login whose key is not where --key-store / key_store now says: moved, no new login. */
function moveKey(store: KeychainKeyStore, profile: Profile, warn: (line: string) => void): void {
  if (Boolean(profile.keyInKeychain) === (store.writeTo === 'keychain')) return
  const proxyHost = proxyHostOf(profile.webProxyAddr)
  const key = store.readKey(proxyHost, profile.user, profile.cluster)
  if (key?.privateKey === undefined || key.certificate === undefined) return
  store.writeKey(proxyHost, profile.user, profile.cluster, {...key, certificate: key.certificate})
  warn(store.writeTo === 'keychain' ? 'Moved the private key into the OS keychain.' : `Moved the private key out of the OS keychain into ${store.home}.`)
}

/**
 * Starts `tsh agent` in the background on ~/.tsh/agent.sock, unless one already answers there
 * (it follows this login: it re-reads the key store). Returns the socket.
 */
async function startTshAgent(home: string, proxy: string, user: string): Promise<string> {
  const socketPath = tshAgentSocket(home)
  const [{withAgent}, {spawnAgentDaemon}] = await Promise.all([import('./agent/client.js'), import('./agent/daemonize.js')])
  try {
    await withAgent(socketPath, (agent) => agent.list())
    return socketPath
  } catch {
    rmSync(socketPath, {force: true}) // nothing answers: a socket left by an agent that died
  }
  await spawnAgentDaemon({socketPath, proxy, user})
  return socketPath
}
