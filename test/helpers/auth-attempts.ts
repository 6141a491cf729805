import tls from 'node:tls'
import ssh2 from 'ssh2'
import {ApiClient, type ApiCredentials} from '../../src/api/client.js'
import type {AuthApi} from '../../src/api/auth-api.js'
import {AuthApiClient} from '../../src/api/auth-api-client.js'
import {encodeRelayLine, readRelayLine, SSH_RELAY_ALPN} from '../../src/api/ssh-relay.js'
import {CERT_HOST_KEY_ALGORITHMS, withHostKeyAlgorithms} from '../../src/ssh/index.js'
import {loadPrivateKey} from '../../src/sshca/index.js'
import {run} from '../interop/helpers.js'

// One authentication attempt each, as an outsider makes it: stock OpenSSH with exactly the key
// and certificate given, ssh2 with a password or the `none` method, the auth API client with
// forged credentials. Each answers whether the server refused, with what the client was told.

export interface Attempt {
  refused: boolean
  /** What the client printed or threw. */
  detail: string
}

export interface OpenSshLogin {
  port: number
  /** Holds `@cert-authority * <host CA>`: the attempt must fail at the server, not at host checking. */
  knownHosts: string
  keyPath: string
  /** Offer only the certificate beside the key (KEY-cert.pub), never the plain key. */
  withCertificate?: boolean
  login: string
  /** Reach the port through this command instead of dialling it (`ProxyCommand`). */
  proxyCommand?: string
  /** The name the server's host certificate is checked against. */
  hostAlias?: string
}

const CERT_ALGORITHMS = ['ssh-ed25519', 'ecdsa-sha2-nistp256', 'rsa-sha2-512', 'rsa-sha2-256'].map((a) => `${a}-cert-v01@openssh.com`).join(',')

function opensshOptions(o: Omit<OpenSshLogin, 'login' | 'proxyCommand'>): string[] {
  return [
    '-F', '/dev/null',
    '-o', 'BatchMode=yes',
    '-o', 'StrictHostKeyChecking=yes',
    '-o', `UserKnownHostsFile=${o.knownHosts}`,
    '-o', 'GlobalKnownHostsFile=/dev/null',
    '-o', 'UpdateHostKeys=no',
    '-o', 'IdentitiesOnly=yes',
    '-o', 'IdentityAgent=none',
    '-o', 'PasswordAuthentication=no',
    '-o', 'KbdInteractiveAuthentication=no',
    '-o', 'ConnectTimeout=20',
    '-i', o.keyPath,
    // A refused certificate must not fall back to the plain key. (Not CertificateFile: OpenSSH then
    // reads the private key from the certificate's path.)
    ...(o.withCertificate ? ['-o', `PubkeyAcceptedAlgorithms=${CERT_ALGORITHMS}`] : []),
    ...(o.hostAlias ? ['-o', `HostKeyAlias=${o.hostAlias}`] : []),
    '-p', String(o.port),
  ]
}

/** `ssh login@127.0.0.1 true`: refused unless it runs the command. */
export async function opensshLogin(o: OpenSshLogin): Promise<Attempt> {
  const r = await run('ssh', [...opensshOptions(o), ...(o.proxyCommand ? ['-o', `ProxyCommand=${o.proxyCommand}`] : []), `${o.login}@127.0.0.1`, 'true'])
  return {refused: r.code !== 0, detail: r.stderr}
}

/**
 * A ProxyCommand through the proxy's SSH port with stock OpenSSH and the proxy's subsystem
 * (`ssh -s proxy:<node>:<port>@<cluster>`), authenticating to the proxy with the key given.
 */
export function proxySubsystemCommand(o: Omit<OpenSshLogin, 'login' | 'proxyCommand'> & {login: string; target: string}): string {
  return ['ssh', ...opensshOptions(o), '-s', `${o.login}@127.0.0.1`, `proxy:${o.target}`].join(' ')
}

/** An ssh2 client trying only `password` (any password) or only `none`. */
export function ssh2Attempt(o: {port: number; username: string; method: 'password' | 'none'}): Promise<Attempt> {
  return new Promise((resolve) => {
    const client = new ssh2.Client()
    const method = o.method === 'password' ? {type: 'password' as const, username: o.username, password: 'hunter2-matrix'} : {type: 'none' as const, username: o.username}
    let tried = false
    const done = (attempt: Attempt) => {
      client.end()
      resolve(attempt)
    }
    client.on('ready', () => done({refused: false, detail: `logged in with ${o.method}`}))
    client.on('error', (err) => done({refused: true, detail: err.message}))
    client.connect({
      host: '127.0.0.1',
      port: o.port,
      username: o.username,
      readyTimeout: 20_000,
      hostVerifier: () => true, // the attacker's side: any server will do
      algorithms: withHostKeyAlgorithms([...CERT_HOST_KEY_ALGORITHMS]),
      authHandler: (_left, _partial, next) => {
        if (tried) return next(false as never)
        tried = true
        next(method as never)
      },
    } as ssh2.ConnectConfig)
  })
}

/**
 * ssh2 presenting a certificate as is, for the ones OpenSSH will not send (a host certificate, a
 * bad signature). With `through`, first to the proxy's SSH port with the same certificate, then
 * to the node over the proxy's subsystem stream.
 */
export function ssh2CertLogin(o: {port: number; username: string; privateKey: string; certificate: string; through?: {port: number; target: string}}): Promise<Attempt> {
  const config = (port: number): ssh2.ConnectConfig =>
    ({
      host: '127.0.0.1',
      port,
      username: o.username,
      privateKey: o.privateKey,
      certificate: o.certificate,
      authHandler: ['publickey'],
      readyTimeout: 20_000,
      hostVerifier: () => true,
      algorithms: withHostKeyAlgorithms([...CERT_HOST_KEY_ALGORITHMS]),
    }) as ssh2.ConnectConfig
  return new Promise((resolve) => {
    const clients: ssh2.Client[] = []
    /** What the proxy wrote on the subsystem's stderr (its refusals to route). */
    let proxySaid = ''
    const done = (attempt: Attempt) => {
      for (const c of clients) c.end()
      resolve(attempt)
    }
    const login = (extra: Partial<ssh2.ConnectConfig>, port: number, where: string) => {
      const client = new ssh2.Client()
      clients.push(client)
      client.on('error', (err) => done({refused: true, detail: `${where}: ${err.message}${proxySaid ? ` (the proxy said: ${proxySaid.trim()})` : ''}`}))
      client.on('ready', () => done({refused: false, detail: `logged in at ${where}`}))
      client.connect({...config(port), ...extra})
    }
    if (!o.through) return login({}, o.port, 'the node')
    const proxy = new ssh2.Client()
    clients.push(proxy)
    proxy.on('error', (err) => done({refused: true, detail: `the proxy: ${err.message}`}))
    proxy.on('ready', () =>
      proxy.subsys(`proxy:${o.through!.target}`, (err, stream) => {
        if (err) return done({refused: true, detail: `the proxy's subsystem: ${err.message}`})
        stream.stderr.on('data', (d: Buffer) => (proxySaid += d.toString()))
        login({sock: stream as never}, o.port, 'the node behind the proxy')
      }),
    )
    proxy.connect(config(o.through.port))
  })
}

/** One auth API call with the credentials given; refused when the call fails. */
export async function authApiAttempt(o: {port: number; credentials: ApiCredentials; hostCAs: string[]}, call: (api: AuthApi) => Promise<unknown>): Promise<Attempt> {
  const api = new AuthApiClient(new ApiClient({host: '127.0.0.1', port: o.port, credentials: o.credentials, trust: {hostCAs: o.hostCAs}}))
  try {
    await call(api)
    return {refused: false, detail: 'the call succeeded'}
  } catch (err) {
    return {refused: true, detail: (err as Error).message}
  } finally {
    await api.close()
  }
}

/**
 * The proxy's TLS relay (ALPN teleport-ssh-relay on the web port) with this X.509 client
 * certificate and key, or none: refused when the proxy answers an error line.
 */
export async function tlsRelayAttempt(o: {port: number; target: {host: string; cluster: string}; client?: {cert: string; privateKey: string}}): Promise<Attempt> {
  const socket = tls.connect({host: '127.0.0.1', port: o.port, ALPNProtocols: [SSH_RELAY_ALPN], rejectUnauthorized: false, ...(o.client ? {cert: o.client.cert, key: loadPrivateKey(o.client.privateKey).export({format: 'pem', type: 'pkcs8'}).toString()} : {})})
  try {
    await new Promise<void>((resolve, reject) => {
      socket.once('secureConnect', resolve)
      socket.once('error', reject)
    })
    socket.write(encodeRelayLine(o.target))
    const line = (await readRelayLine(socket)) ?? '(closed without an answer)'
    return {refused: !line.includes('"ok":true'), detail: line}
  } catch (err) {
    return {refused: true, detail: (err as Error).message}
  } finally {
    socket.destroy()
  }
}
