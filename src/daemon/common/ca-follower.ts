import {createInterface} from 'node:readline'
import type {Readable} from 'node:stream'
import type {CAKeys, NodeAuthApi} from '../../api/auth-api.js'
import {Backoff} from '../../lib/backoff.js'
import type {Clock} from '../../lib/clock.js'
import type {Logger} from '../../lib/log.js'
import {hostCertOutdated} from '../../services/rotation.js'
import {parseCert} from '../../sshca/index.js'

// How a node or proxy follows the cluster's CAs: a watch on auth (`watchCAs`, a stream of JSON
// lines, one per change) feeds the keys it trusts, and when a host CA rotation reaches the phase
// where servers switch (update_servers, rollback) it asks auth to sign its certificate again
// (same key, same names) and starts presenting it. A dropped watch is reopened with back-off; the
// trust on hand stays in force meanwhile.

export interface CAFollowerOptions {
  api: Pick<NodeAuthApi, 'watchCAs' | 'renewHostCert'>
  /** The host certificate presented now. */
  certificate: () => string
  /** The CAs as auth says them now (first line, then every change). */
  onCAs: (cas: CAKeys) => void
  /** A renewed host certificate: present it from now on and keep it. */
  onCertificate: (certificate: string, hostCAs: string[]) => void | Promise<void>
  clock: Clock
  log: Logger
}

export class CAFollower {
  private readonly backoff: Backoff
  private stopped = false
  private stream: Readable | undefined
  private applying: Promise<void> = Promise.resolve()

  constructor(private readonly options: CAFollowerOptions) {
    this.backoff = new Backoff(options.clock, 1_000, 30_000)
  }

  /** Opens the watch in the background (auth may be away: it keeps trying). */
  start(): void {
    void this.watch()
  }

  stop(): void {
    this.stopped = true
    this.backoff.cancel()
    this.stream?.destroy()
  }

  /** Resolves when what arrived so far has been applied (tests). */
  idle(): Promise<void> {
    return this.applying
  }

  private async watch(): Promise<void> {
    if (this.stopped) return
    try {
      const stream = await this.options.api.watchCAs()
      this.stream = stream
      for await (const line of createInterface({input: stream, crlfDelay: Infinity})) {
        if (!line.trim()) continue
        this.enqueue(JSON.parse(line) as CAKeys)
        this.backoff.succeeded()
      }
    } catch (err) {
      if (!this.stopped && this.backoff.fresh) this.options.log.warn(`watching the cluster's CAs: ${(err as Error).message}; retrying`)
    }
    if (!this.stopped) this.backoff.schedule(() => void this.watch())
  }

  private enqueue(cas: CAKeys): void {
    this.applying = this.applying.then(() => this.apply(cas)).catch((err: Error) => this.options.log.warn(`following a CA rotation: ${err.message}`))
  }

  private async apply(cas: CAKeys): Promise<void> {
    this.options.onCAs(cas)
    const host = cas.rotation?.host
    if (!host) return
    const signer = parseCert(this.options.certificate()).signatureKey
    if (!hostCertOutdated(host.phase, host.signingKey, signer)) return
    const renewed = await this.options.api.renewHostCert()
    await this.options.onCertificate(renewed.certificate, renewed.hostCAs)
    this.options.log.info(`Host CA rotation (phase ${host.phase}): presenting a new host certificate.`)
  }
}
