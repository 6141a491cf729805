import {createPublicKey} from 'node:crypto'
import {parseCert} from '../../sshca/parse.js'
import {loadPrivateKey} from '../../sshca/private-key.js'
import {blobFromKeyObject} from '../../sshca/public-key.js'
import {signSsh} from '../../sshca/signature.js'
import {systemClock, type Clock, type Timer} from '../../lib/clock.js'
import {UserError} from '../../lib/errors.js'
import {currentProfileName, isExpired, loadCurrentIdentity, loadProfile, type ClientIdentity} from '../profile.js'
import {serveAgent, type Keyring} from './server.js'
import {agentComment} from './teleport-keys.js'

// What `tsh agent` runs: an agent socket holding the logged-in identity (the certificate, as
// `ssh-add -l` shows it), reloaded when a new login replaces the certificate (tsh login, or a
// login on demand). While the certificate has expired it lists nothing and waits for the next
// login; it shuts down when the user logs out.

export function identityKeyring(identity: Pick<ClientIdentity, 'privateKey' | 'certificate'> & {profile: {user: string}}): Keyring {
  if (!identity.privateKey) throw new UserError('the private key is not on disk (logged in with --add-keys-to-agent=only), so tsh agent cannot serve it')
  const key = loadPrivateKey(identity.privateKey)
  const certBlob = parseCert(identity.certificate).blob
  const keyBlob = blobFromKeyObject(createPublicKey(key))
  const comment = agentComment(identity.profile.user)
  return {
    identities: () => [{blob: certBlob, comment}],
    sign: (blob, data) => (blob.equals(certBlob) || blob.equals(keyBlob) ? signSsh(key, data) : undefined),
  }
}

export interface IdentityAgent {
  socketPath: string
  /** Proxy host and user served. */
  profileName: string
  user: string
  /** Resolves with why the agent stopped ("logged out", "stopped"). */
  done: Promise<string>
  close(): Promise<void>
}

export interface IdentityAgentOptions {
  socketPath: string
  home: string
  /** Default: the current profile at start. */
  proxy?: string
  user?: string
  /** How often to look at the files; the expiry itself has its own timer. */
  pollMs?: number
  log?: (line: string) => void
  /** Judges expiry and runs the poll and expiry timers (tests move it). */
  clock?: Clock
}

const MAX_TIMER_MS = 2 ** 31 - 1

/** What an agent with an expired certificate serves: nothing, until the next login. */
const EMPTY_KEYRING: Keyring = {identities: () => [], sign: () => undefined}

export async function startIdentityAgent(opts: IdentityAgentOptions): Promise<IdentityAgent> {
  const profileName = opts.proxy ?? currentProfileName(opts.home)
  const user = opts.user ?? loadProfile(profileName, opts.home).user
  const clock = opts.clock ?? systemClock
  const load = () => loadCurrentIdentity({home: opts.home, proxy: profileName, user, allowExpired: true})
  let identity = loadCurrentIdentity({home: opts.home, proxy: profileName, user, now: clock.now()})
  let keyring = identityKeyring(identity)
  const server = await serveAgent(opts.socketPath, {identities: () => keyring.identities(), sign: (b, d, f) => keyring.sign(b, d, f)})

  let finish!: (reason: string) => void
  const done = new Promise<string>((resolve) => (finish = resolve))
  let stopped = false
  let expiryTimer: Timer | undefined
  const stop = async (reason: string) => {
    if (stopped) return
    stopped = true
    poller.cancel()
    expiryTimer?.cancel()
    opts.log?.(`tsh agent stopping: ${reason}`)
    await server.close()
    finish(reason)
  }
  const armExpiry = () => {
    expiryTimer?.cancel()
    const until = identity.cert.validBefore
    if (!until) return
    const ms = until.getTime() - clock.now().getTime()
    expiryTimer = clock.setTimer(Math.min(Math.max(ms, 0) + 50, MAX_TIMER_MS), check)
  }
  function check(): void {
    if (stopped) return
    try {
      const next = load()
      if (next.certificate !== identity.certificate || next.privateKey !== identity.privateKey) {
        keyring = identityKeyring(next)
        identity = next
        armExpiry()
        opts.log?.('tsh agent: loaded the new certificate')
      }
    } catch {
      void stop('logged out')
      return
    }
    if (keyring !== EMPTY_KEYRING && isExpired(identity.cert, clock.now())) {
      keyring = EMPTY_KEYRING
      opts.log?.('tsh agent: the certificate expired; waiting for a new login')
    }
  }
  const poller = clock.setRepeating(opts.pollMs ?? 1000, check)
  armExpiry()
  return {socketPath: server.socketPath, profileName: profileName!, user, done, close: () => stop('stopped')}
}
