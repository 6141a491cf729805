import type {Duplex} from 'node:stream'
import ssh2 from 'ssh2'
import {Client as HttpClient} from 'undici'
import {AccessDeniedError, UserError} from '../lib/errors.js'
import type {ParsedCert} from '../sshca/index.js'
import {CERT_HOST_KEY_ALGORITHMS, withHostKeyAlgorithms} from '../ssh/index.js'
import {API_SUBSYSTEM} from './server.js'
import {checkAuthServerCert, type ServerTrust} from './server-trust.js'
import {fromWireError, parseJsonBody} from './wire-errors.js'

// A client of the auth API: one SSH connection (certificate auth both ways) multiplexing
// HTTP/1.1 over "teleport-api" channels, reopened on the next request after it drops.

export interface ApiCredentials {
  privateKey: string
  /** Absent: connect with the plain key, which the server allows only for joining. */
  certificate?: string
}

export interface ApiClientOptions {
  host: string
  port: number
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

export class ApiClient {
  /** The auth server's host certificate, once connected. */
  serverCert: ParsedCert | undefined
  private live: Promise<Live> | undefined
  private closed = false

  constructor(private readonly options: ApiClientOptions) {}

  get address(): string {
    return `${this.options.host}:${this.options.port}`
  }

  async get<T>(path: string): Promise<T> {
    return this.request<T>('GET', path)
  }

  async post<T>(path: string, body?: unknown): Promise<T> {
    return this.request<T>('POST', path, body)
  }

  async put<T>(path: string, body?: unknown): Promise<T> {
    return this.request<T>('PUT', path, body)
  }

  async delete<T>(path: string): Promise<T> {
    return this.request<T>('DELETE', path)
  }

  async request<T>(method: string, path: string, body?: unknown): Promise<T> {
    const {http} = await this.connection()
    const response = await http.request({
      method: method as 'GET',
      path,
      headers: body === undefined ? {} : {'content-type': 'application/json'},
      body: body === undefined ? undefined : JSON.stringify(body),
    })
    const parsed = parseJsonBody(await response.body.text())
    if (response.statusCode >= 400) throw fromWireError(response.statusCode, parsed)
    return parsed as T
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
      ssh.end()
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

  private async open(): Promise<Live> {
    const {host, port, credentials, trust} = this.options
    const sock = this.options.dial ? await this.options.dial() : undefined
    return new Promise<Live>((resolve, reject) => {
      const ssh = new ssh2.Client()
      let refusal: Error | undefined
      const fail = (err: Error) => {
        ssh.end()
        reject(refusal ?? describeConnectError(err, this.address))
      }
      ssh.once('error', fail)
      ssh.once('ready', () => {
        ssh.off('error', fail)
        ssh.on('error', () => {}) // a later drop shows up as a failed request
        const http = new HttpClient('http://teleport-api', {
          connect: (_opts, callback) => {
            ssh.subsys(API_SUBSYSTEM, (err, channel) => {
              if (err) return callback(err, null)
              const socket = channel as unknown as Duplex
              Object.assign(socket, {setNoDelay: () => socket, setKeepAlive: () => socket, setTimeout: () => socket})
              callback(null, socket as never)
            })
          },
          pipelining: 1,
        })
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
        privateKey: credentials.privateKey,
        ...(credentials.certificate ? {certificate: credentials.certificate} : {}),
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

function describeConnectError(err: Error & {code?: string; level?: string}, address: string): Error {
  if (err.code === 'ECONNREFUSED') return new UserError(`cannot reach the auth server at ${address}: connection refused`, {hint: 'is "teleport start" running there?'})
  if (err.code === 'ENOTFOUND' || err.code === 'EAI_AGAIN') return new UserError(`cannot resolve the auth server address ${address}`)
  if (err.level === 'client-authentication') {
    return new AccessDeniedError(`the auth server at ${address} refused our credentials`, {hint: 'the identity may be expired or from another cluster'})
  }
  if (err.level === 'client-timeout') return new UserError(`timed out connecting to the auth server at ${address}`)
  return new UserError(`cannot connect to the auth server at ${address}: ${err.message}`)
}
