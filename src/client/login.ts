import os from 'node:os'
import {UsageError, UserError} from '../lib/errors.js'
import {quietly, type ShowWaiting} from '../lib/progress/spinner.js'
import {parseCert} from '../sshca/parse.js'
import {generateKeyPair} from '../sshca/private-key.js'
import {parsePublicKeyLine} from '../sshca/public-key.js'
import {x509CertifiesKey} from '../sshca/x509.js'
import {addToAgent, planAgent, tshAgentSocket, type AddKeysMode} from './agent/teleport-keys.js'
import type {KeyStore} from './key-store.js'
import {isExpired, saveLogin, type Profile} from './profile.js'
import {normalizeWebProxyAddr, proxyHostOf} from './proxy-addr.js'
import {WebClient, fetchProxyCertificate, sshProxyAddrFromPing, systemTrust, type WebPing} from './web-client.js'

// `tsh login`: ping the proxy, make a key pair here (the private key never leaves this machine),
// ask for the password and OTP code on the terminal, trade them and the public key for a
// certificate, then store key + certificate + host CAs + profile and load the agent.

/** Asks the user; only exists when there is a terminal to ask on. */
export interface Prompter {
  password(message: string): Promise<string>
  otp(message: string): Promise<string>
}

export interface LoginOptions {
  store: KeyStore
  proxy?: string
  user?: string
  ttlMinutes?: number
  insecure?: boolean
  authType?: string
  addKeysToAgent: AddKeysMode
  /** Undefined without a TTY: the login then fails saying so. */
  prompter?: Prompter
  warn: (line: string) => void
  debug: (line: string) => void
  env?: NodeJS.ProcessEnv
  now?: () => Date
  /** Tests: trusted CA certificates for the proxy instead of the system's. */
  ca?: string[]
  /**
   * With --add-keys-to-agent=yes and no agent running ($SSH_AUTH_SOCK unset): starts `tsh agent`
   * for the new login and returns its socket.
   */
  startAgent?: (profile: Profile) => Promise<string>
  /** Headers for the proxy's web API (the config file's extra_headers), by its address. */
  headersFor?: (webProxyAddr: string) => Record<string, string>
  /** Shows that tsh waits for the proxy (a spinner on a terminal). Default: nothing shown. */
  waiting?: ShowWaiting
}

export type LoginOutcome = {kind: 'already-logged-in'; profile: Profile} | {kind: 'logged-in'; profile: Profile; agent: 'added' | 'skipped' | 'failed' | 'started'}

export const DEFAULT_TTL_MINUTES = 12 * 60
const NANOS_PER_MINUTE = 60_000_000_000

export function osUser(env: NodeJS.ProcessEnv = process.env): string {
  try {
    return os.userInfo().username
  } catch {
    return env.USER || env.LOGNAME || 'root'
  }
}

/** Which second-factor prompt the cluster's setting needs. */
export function otpRequirement(secondFactor: string): 'required' | 'optional' | 'none' {
  switch (secondFactor) {
    case 'off':
    case '':
      return 'none'
    case 'otp':
    case 'on':
      return 'required'
    case 'optional':
      return 'optional'
    default:
      throw new UserError(`the cluster asks for second factor "${secondFactor}", which this tsh does not support`, {hint: 'supported: otp, on, optional, off'})
  }
}

export async function login(opts: LoginOptions): Promise<LoginOutcome> {
  const env = opts.env ?? process.env
  const now = opts.now ?? (() => new Date())
  const {store} = opts
  const currentName = store.currentProfile()
  const current = currentName ? store.readProfile(currentName) : undefined
  const proxyInput = opts.proxy ?? current?.webProxyAddr
  if (!proxyInput) throw new UsageError('--proxy is required: there is no current profile to log in again to', {hint: 'tsh login --proxy=proxy.example.com:3080'})
  const webProxyAddr = normalizeWebProxyAddr(proxyInput)
  const proxyHost = proxyHostOf(webProxyAddr)
  const existing = store.readProfile(proxyHost)
  const user = opts.user ?? existing?.user ?? osUser(env)

  // A valid login for this proxy and user: show it, ask nothing.
  if (existing && existing.user === user && existing.webProxyAddr === webProxyAddr && opts.ttlMinutes === undefined) {
    const key = store.readKey(proxyHost, user, existing.cluster)
    if (key?.certificate) {
      let valid = false
      try {
        valid = !isExpired(parseCert(key.certificate), now())
      } catch {
        // unreadable: log in again
      }
      if (valid) {
        store.setCurrentProfile(proxyHost)
        return {kind: 'already-logged-in', profile: existing}
      }
    }
  }

  const authType = opts.authType ?? 'local'
  if (authType !== 'local') throw new UsageError(`--auth=${authType} is not supported`, {hint: 'use --auth=local (password and OTP)'})
  const agentPlan = planAgent(opts.addKeysToAgent, env)
  if (opts.addKeysToAgent === 'only' && agentPlan.use && agentPlan.socket === tshAgentSocket(store.home)) {
    throw new UserError('--add-keys-to-agent=only cannot use tsh agent: it serves the key tsh stores, and "only" stores none', {hint: 'use --add-keys-to-agent=yes'})
  }
  if (opts.addKeysToAgent === 'only' && !agentPlan.use) {
    throw new UserError(`--add-keys-to-agent=only needs a running SSH agent: ${agentPlan.reason}`, {hint: 'start one with eval "$(ssh-agent)", or use --add-keys-to-agent=auto'})
  }
  if (opts.ttlMinutes !== undefined && (!Number.isInteger(opts.ttlMinutes) || opts.ttlMinutes < 1)) throw new UsageError('--ttl must be a whole number of minutes, at least 1')

  // After a first login the proxy's certificate is pinned in ~/.tsh: later logins verify against
  // it (as well as the system's CAs) without --insecure, and notice if it changes.
  const pinned = opts.insecure ? undefined : store.readProxyCertificate(proxyHost)
  const ca = opts.ca ?? (pinned ? [...systemTrust(opts.env), pinned] : undefined)
  const headers = opts.headersFor?.(webProxyAddr)
  const web = new WebClient({proxyAddr: webProxyAddr, insecure: opts.insecure, ...(ca ? {ca} : {}), ...(headers ? {headers} : {})})
  if (opts.insecure) opts.warn(`WARNING: you are using insecure connection to the proxy ${web.baseUrl}: its certificate is not verified`)
  try {
    const waiting = opts.waiting ?? quietly
    const ping = await waiting(`Connecting to the proxy ${web.baseUrl}…`, () => web.ping())
    opts.debug(`proxy ${web.baseUrl}: cluster ${ping.cluster_name}, version ${ping.server_version}, auth ${ping.auth.type}/${ping.auth.second_factor}`)
    if (ping.auth.type !== 'local') throw new UserError(`the cluster uses "${ping.auth.type}" authentication, which this tsh does not support`, {hint: 'only local users (password and OTP) can log in'})
    const otp = otpRequirement(ping.auth.second_factor)
    if (!opts.prompter) {
      throw new UserError(`${otp === 'none' ? 'password is' : 'password and OTP code are'} required; tsh login needs a terminal to ask for ${otp === 'none' ? 'it' : 'them'}`, {
        hint: 'stdin is not a TTY: run tsh login in a terminal',
      })
    }

    const keys = generateKeyPair()
    const password = await opts.prompter.password(`Enter password for Teleport user ${user}:`)
    const otpToken = otp === 'none' ? undefined : await opts.prompter.otp(otp === 'optional' ? 'Enter your OTP token (empty to skip):' : 'Enter your OTP token:')
    const ttlMinutes = opts.ttlMinutes ?? DEFAULT_TTL_MINUTES
    const res = await waiting(`Logging in as ${user}…`, () => web.createSshCert({user, password, ...(otpToken ? {otp_token: otpToken} : {}), pub_key: keys.publicKey, ttl: ttlMinutes * NANOS_PER_MINUTE}))
    const {certificate, hostCAs} = checkCertResponse(res.cert, res.host_signers, keys.publicKey)
    const x509 = checkX509Response(res.tls_cert, res.host_signers, keys.publicKey, now())
    const profile = makeProfile(ping, webProxyAddr, user, existing, opts.insecure, x509 !== undefined)

    let agent: 'added' | 'skipped' | 'failed' | 'started' = 'skipped'
    const startAgent = opts.addKeysToAgent === 'yes' && !env.SSH_AUTH_SOCK ? opts.startAgent : undefined
    if (agentPlan.use && agentPlan.socket === tshAgentSocket(store.home)) {
      // tsh's own agent takes no keys: it reads this login from the key store.
      agent = 'added'
      opts.debug(`the SSH agent is tsh agent (${agentPlan.socket}); it picks up the new login`)
    } else if (agentPlan.use) {
      try {
        await addToAgent(agentPlan.socket, {privateKey: keys.privateKey, certificate, user, now: now()})
        agent = 'added'
      } catch (err) {
        if (opts.addKeysToAgent === 'only') throw new UserError(`could not add the key to the SSH agent: ${(err as Error).message}`)
        agent = 'failed'
        const line = `could not add the key to the SSH agent at ${agentPlan.socket}: ${(err as Error).message}`
        if (opts.addKeysToAgent === 'yes') opts.warn(`WARNING: ${line}`)
        else opts.debug(line)
      }
    } else if (opts.addKeysToAgent === 'yes' && !startAgent) {
      opts.warn(`WARNING: the key was not added to an SSH agent: ${agentPlan.reason}`)
    } else {
      opts.debug(`not adding the key to an SSH agent: ${agentPlan.reason}`)
    }

    saveLogin(store, {
      profile,
      ...(opts.addKeysToAgent === 'only' ? {} : {privateKey: keys.privateKey}),
      publicKey: keys.publicKey,
      certificate,
      hostCAs,
      ...(x509 ? {x509} : {}),
    })
    if (opts.insecure) await pinProxyCertificate(store, proxyHost, webProxyAddr, opts.debug)
    if (startAgent) {
      try {
        const socket = await startAgent(profile)
        agent = 'started'
        opts.warn(`tsh agent holds the key (no agent was running); use it with: export SSH_AUTH_SOCK=${socket}`)
      } catch (err) {
        agent = 'failed'
        opts.warn(`WARNING: could not start tsh agent: ${(err as Error).message}`)
      }
    }
    return {kind: 'logged-in', profile, agent}
  } finally {
    await web.close()
  }
}

/** Pins what the proxy presents after a login the user chose to trust (--insecure). */
async function pinProxyCertificate(store: KeyStore, proxyHost: string, webProxyAddr: string, debug: (line: string) => void): Promise<void> {
  try {
    store.writeProxyCertificate(proxyHost, await fetchProxyCertificate(webProxyAddr))
    debug(`pinned the proxy's HTTPS certificate for ${proxyHost}`)
  } catch (err) {
    debug(`could not pin the proxy's HTTPS certificate: ${(err as Error).message}`)
  }
}

/** The certificate must certify the key we sent; host CAs must be there to trust nodes with. */
export function checkCertResponse(cert: string, signers: {domain_name: string; checking_keys: string[]}[], publicKey: string): {certificate: string; hostCAs: string[]} {
  let parsed
  try {
    parsed = parseCert(cert)
  } catch (err) {
    throw new UserError(`the proxy returned an unreadable certificate: ${(err as Error).message}`)
  }
  if (!parsePublicKeyLine(parsed.publicKey).blob.equals(parsePublicKeyLine(publicKey).blob)) {
    throw new UserError('the proxy returned a certificate for a different key than the one sent')
  }
  // The proxy's JSON: an entry or a key of the wrong type is a bad answer, not a crash.
  const keys: unknown[] = signers.flatMap((s) => (Array.isArray(s?.checking_keys) ? s.checking_keys : []))
  if (!keys.every((k) => typeof k === 'string')) throw new UserError('the proxy returned host certificate authorities that are not key lines')
  const hostCAs = [...new Set((keys as string[]).map((k) => k.trim().split(/\s+/).slice(0, 2).join(' ')))]
  if (hostCAs.length === 0) throw new UserError('the proxy returned no host certificate authorities to trust')
  return {certificate: parsed.line, hostCAs}
}

/**
 * The X.509 client certificate beside the SSH one (for the proxy's TLS relay), if the proxy sent
 * one: it must certify the key we sent and come with the CA that signed it.
 */
export function checkX509Response(cert: unknown, signers: {tls_certs?: unknown}[], publicKey: string, now: Date): {certificate: string; cas: string} | undefined {
  if (cert === undefined || cert === null || cert === '') return undefined
  if (typeof cert !== 'string' || !x509CertifiesKey(cert, publicKey, now)) throw new UserError('the proxy returned an X.509 certificate that is unreadable, expired or for a different key than the one sent')
  const cas = signers.flatMap((s) => (Array.isArray(s?.tls_certs) ? s.tls_certs : []))
  if (cas.length === 0 || !cas.every((c) => typeof c === 'string' && c.includes('-----BEGIN CERTIFICATE-----'))) throw new UserError('the proxy returned an X.509 certificate without the CA that signs it')
  return {certificate: cert.endsWith('\n') ? cert : `${cert}\n`, cas: (cas as string[]).map((c) => (c.endsWith('\n') ? c : `${c}\n`)).join('')}
}

const ALPN_NAME = /^[a-z0-9@._-]{1,64}$/

function makeProfile(ping: WebPing, webProxyAddr: string, user: string, existing: Profile | undefined, insecure: boolean | undefined, hasX509: boolean): Profile {
  const profile: Profile = {
    webProxyAddr,
    sshProxyAddr: sshProxyAddrFromPing(ping, webProxyAddr),
    user,
    cluster: ping.cluster_name,
    authType: 'local',
    forwardPorts: existing?.forwardPorts ?? [],
    dynamicForwardPorts: existing?.dynamicForwardPorts ?? [],
  }
  if (insecure) profile.insecure = true
  const relayAlpn = ping.proxy.ssh_relay_alpn
  if (hasX509 && typeof relayAlpn === 'string' && ALPN_NAME.test(relayAlpn)) profile.sshRelayAlpn = relayAlpn
  if (ping.proxy.tls_routing_enabled === true) profile.tlsRoutingEnabled = true
  if (ping.proxy.recording_proxy === true) profile.recordingProxy = true
  return profile
}
