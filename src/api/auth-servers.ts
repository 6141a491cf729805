import {formatHostPort, type HostPort} from '../lib/net/ip.js'

// The auth servers of one cluster (`auth_servers:`, tctl's --auth-server) in the order to try
// them, and which one answered last. One list is shared by every connection a process opens to
// auth (its API client, the proxy's raw pipes, web sessions' connections), so when one auth server
// goes away they all move to the next together and stay there, rather than each finding out anew.

export class AuthServers {
  readonly all: readonly HostPort[]
  private current = 0

  /** Repeats are dropped; a wildcard host (0.0.0.0, ::) is dialled on loopback. */
  constructor(addresses: readonly HostPort[]) {
    const seen = new Set<string>()
    const all: HostPort[] = []
    for (const address of addresses) {
      const dialled = {host: dialHost(address.host), port: address.port}
      const key = formatHostPort(dialled)
      if (seen.has(key)) continue
      seen.add(key)
      all.push(dialled)
    }
    if (all.length === 0) throw new Error('AuthServers needs at least one address')
    this.all = all
  }

  /** The auth server in use (or tried last). */
  get inUse(): HostPort {
    return this.all[this.current]!
  }

  /** "the auth server at a:3025", or "the auth servers at a:3025, b:3025", for messages. */
  describe(): string {
    const list = this.all.map(formatHostPort).join(', ')
    return this.all.length === 1 ? `the auth server at ${list}` : `the auth servers at ${list}`
  }

  /**
   * Runs `attempt` against the auth server in use, then against each other in turn while the
   * failure is one `unreachable` accepts; the first that succeeds is the one in use from then
   * on. Any other failure is final at once (a refusal of trust or credentials: every auth server
   * of a cluster would say the same). When none can be reached, the last failure is thrown.
   */
  async inTurn<T>(attempt: (address: HostPort) => Promise<T>, unreachable: (err: unknown) => boolean): Promise<T> {
    const start = this.current
    let lastError: unknown
    for (let tried = 0; tried < this.all.length; tried++) {
      const index = (start + tried) % this.all.length
      try {
        const result = await attempt(this.all[index]!)
        this.current = index
        return result
      } catch (err) {
        if (!unreachable(err)) throw err
        lastError = err
      }
    }
    throw lastError
  }
}

/** A wildcard listen address is dialled on loopback. */
export function dialHost(host: string): string {
  if (host === '' || host === '0.0.0.0') return '127.0.0.1'
  if (host === '::' || host === '[::]') return '::1'
  return host
}
