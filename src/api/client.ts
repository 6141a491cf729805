import {finished, type Duplex, type Readable} from 'node:stream'
import ssh2 from 'ssh2'
import type {BaseAgent} from 'ssh2'
import type {Client as HttpClient} from 'undici'
// Only undici's HTTP/1.1 client: its index also loads fetch, cookies and WebSocket, which every
// command that calls the API (tsh ls, tsh ssh) would otherwise load at each start.
import UndiciClient from 'undici/lib/dispatcher/client.js'
import {AccessDeniedError, isUserError, UserError} from '../lib/errors.js'
import {joinHostPort} from '../lib/net/ip.js'
import type {ParsedCert} from '../sshca/index.js'
import {CERT_HOST_KEY_ALGORITHMS, failOnCloseBeforeReady, hangUp, withHostKeyAlgorithms} from '../ssh/index.js'
import {jsonCall, streamCall} from './http-call.js'
import {pacedSocket} from './paced-socket.js'
import {AuthServers} from './auth-servers.js'
import type {ApiTransport} from './route.js'
import {API_SUBSYSTEM} from './server.js'
import {checkAuthServerCert, type ServerTrust} from './server-trust.js'

// A client of the auth API: one SSH connection (certificate auth both ways) multiplexing
// HTTP/1.1 over "teleport-api" channels, reopened on the next request after it drops.

export type ApiCredentials =
  | {
      privateKey: string
      /** Absent: connect with the plain key, which the server allows only for joining. */
      certificate?: string
    }
  /** An ssh-agent holding a user certificate: a web session's (WebSessionAgent), whose key stays at auth. */
  | {agent: BaseAgent}

/** Where the auth API is: one address with others to fall back on, or a list shared with other connections. */
export type ApiClientTarget =
  | {
      host: string
      port: number
      /**
       * Other auth servers of the same cluster (`auth_servers:`), tried in turn when the one in use
       * cannot be reached; the client stays with whichever answered. A refusal (trust, credentials)
       * is final: every auth server of a cluster would say the same.
       */
      fallbacks?: Array<{host: string; port: number}>
    }
  /** The process's list (auth-servers.ts): its other connections to auth follow the same server. */
  | {servers: AuthServers}

export type ApiClientOptions = ApiClientTarget & {
  credentials: ApiCredentials
  trust: ServerTrust
  /** Give up connecting after this long (default 15 s). */
  connectTimeoutMs?: number
  /**
   * A stream to run the SSH connection over instead of dialling host:port: how a node that
   * joined through the proxy reaches auth (the proxy's `proxy:@cluster` subsystem).
   */
  dial?: () => Promise<Duplex>
}

interface Live {
  ssh: ssh2.Client
  http: HttpClient
  /** The SSH connection closed: the next request opens a new one. */
  dead: boolean
}

export class ApiClient implements ApiTransport {
  /** The auth server's host certificate, once connected. */
  serverCert: ParsedCert | undefined
  private live: Promise<Live> | undefined
  private closed = false
  /** The auth servers to try, the one in use first; over `dial`, only the first names the server. */
  private readonly servers: AuthServers

  constructor(private readonly options: ApiClientOptions) {
    this.servers = 'servers' in options ? options.servers : new AuthServers([{host: options.host, port: options.port}, ...(options.dial ? [] : (options.fallbacks ?? []))])
  }

  /** host:port of the auth server in use (or tried last). */
  get address(): string {
    const {host, port} = this.servers.inUse
    return joinHostPort(host, port)
  }

  async request<T>(method: string, path: string, body?: unknown): Promise<T> {
    const {http} = await this.connection()
    return jsonCall<T>(http, method, path, body)
  }

  /** A streaming call on a channel of its own, so a long stream never holds up other calls; the channel closes with the response body. */
  async stream(method: string, path: string, body?: Readable): Promise<Readable> {
    const live = await this.connection()
    const http = channelHttpClient(live.ssh)
    try {
      const response = await streamCall(http, method, path, body)
      finished(response, () => void http.close().catch(() => {}))
      return response
    } catch (err) {
      await http.destroy().catch(() => {})
      throw err
    }
  }

  /** Connects now (the first request would otherwise); surfaces trust and auth failures early. */
  async connect(): Promise<void> {
    await this.connection()
  }

  async close(): Promise<void> {
    this.closed = true
    const live = this.live
    this.live = undefined
    if (!live) return
    try {
      const {ssh, http} = await live
      await http.close().catch(() => {})
      hangUp(ssh)
    } catch {
      // it never connected
    }
  }

  private async connection(): Promise<Live> {
    if (this.closed) throw new UserError('the auth API client is closed')
    if (this.live) {
      const live = await this.live.catch(() => undefined)
      if (live && !live.dead) return live
    }
    const opening = this.open()
    this.live = opening
    opening.catch(() => {
      if (this.live === opening) this.live = undefined
    })
    return opening
  }

  /** The server in use, then each other in turn while they cannot be reached. */
  private open(): Promise<Live> {
    if (this.options.dial) return this.openTo(this.servers.inUse)
    return this.servers.inTurn((address) => this.openTo(address), (err) => err instanceof UnreachableAuthError)
  }

  private async openTo({host, port}: {host: string; port: number}): Promise<Live> {
    const address = joinHostPort(host, port)
    const {credentials, trust} = this.options
    const sock = this.options.dial ? await this.options.dial() : undefined
    return new Promise<Live>((resolve, reject) => {
      const ssh = new ssh2.Client()
      let refusal: Error | undefined
      const fail = (err: Error) => {
        ssh.end()
        reject(refusal ?? describeConnectError(err, address))
      }
      // `on`, not `once`: a refused agent signature is an error, then so is running out of methods.
      ssh.on('error', fail)
      failOnCloseBeforeReady(ssh, fail)
      ssh.once('ready', () => {
        ssh.off('error', fail)
        ssh.on('error', () => {}) // a later drop shows up as a failed request
        const http = channelHttpClient(ssh)
        const live: Live = {ssh, http, dead: false}
        ssh.once('close', () => {
          live.dead = true
          void http.destroy().catch(() => {})
        })
        resolve(live)
      })
      ssh.connect({
        host,
        port,
        ...(sock ? {sock: sock as never} : {}),
        username: 'teleport',
        ...('agent' in credentials
          ? {agent: credentials.agent, authHandler: ['agent']}
          : {privateKey: credentials.privateKey, ...(credentials.certificate ? {certificate: credentials.certificate} : {})}),
        readyTimeout: this.options.connectTimeoutMs ?? 15_000,
        algorithms: withHostKeyAlgorithms([...CERT_HOST_KEY_ALGORITHMS]),
        hostVerifier: (key: Buffer) => {
          try {
            this.serverCert = checkAuthServerCert(key, trust)
            return true
          } catch (err) {
            refusal = err as Error
            return false
          }
        },
      } as ssh2.ConnectConfig)
    })
  }
}

/** HTTP/1.1 over one "teleport-api" channel of the connection, opened on the first request. */
function channelHttpClient(ssh: ssh2.Client): HttpClient {
  return new UndiciClient('http://teleport-api', {
    connect: (_opts, callback) => {
      ssh.subsys(API_SUBSYSTEM, (err, channel) => {
        if (err) return callback(err, null)
        const socket = pacedSocket(channel as unknown as Duplex)
        Object.assign(socket, {setNoDelay: () => socket, setKeepAlive: () => socket, setTimeout: () => socket})
        callback(null, socket as never)
      })
    },
    pipelining: 1,
    // An idle channel costs the server next to nothing inside the SSH connection, and reopening
    // one costs a round trip and four packets each way: keep it across heartbeats (one a minute).
    keepAliveTimeout: IDLE_CHANNEL_MS,
    keepAliveMaxTimeout: IDLE_CHANNEL_MS,
  })
}

/** How long an API channel with no request in flight stays open. */
const IDLE_CHANNEL_MS = 5 * 60_000

/** This auth server could not be reached (another of the cluster's may be). */
class UnreachableAuthError extends UserError {}

function describeConnectError(err: Error & {code?: string; level?: string}, address: string): Error {
  // The agent could not sign (a web session signed out or expired): its own words say why.
  if (err.level === 'agent' && isUserError(err)) return err
  if (err.code === 'ECONNREFUSED') return new UnreachableAuthError(`cannot reach the auth server at ${address}: connection refused`, {hint: 'is "teleport start" running there?'})
  if (err.code === 'ENOTFOUND' || err.code === 'EAI_AGAIN') return new UnreachableAuthError(`cannot resolve the auth server address ${address}`)
  if (err.level === 'client-authentication') {
    return new AccessDeniedError(`the auth server at ${address} refused our credentials`, {hint: 'the identity may be expired or from another cluster'})
  }
  if (err.level === 'client-timeout') return new UnreachableAuthError(`timed out connecting to the auth server at ${address}`)
  return new UnreachableAuthError(`cannot connect to the auth server at ${address}: ${err.message}`)
}
