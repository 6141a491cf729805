import type {Duplex} from 'node:stream'
import ssh2 from 'ssh2'
import {UserError} from '../../lib/errors.js'
import {failOnCloseBeforeReady, hangUp, hostCertVerifier} from '../../ssh/index.js'
import type {ParsedCert} from '../../sshca/index.js'
import {userAuthOptions} from './auth-options.js'
import {withHostCARefresh} from './host-ca-refresh.js'
import {NodeAccessDeniedError} from './errors.js'
import type {ConnectIdentity} from './identity.js'
import {openNodeStream, type NodeStream} from './node-stream.js'
import {HANDSHAKE_TIMEOUT_MS} from './timeouts.js'
import {connectToProxy} from './proxy.js'
import {canUseRelay, openTlsRelay, RelayUnavailableError} from './tls-relay.js'

// The second hop: an SSH session with the node itself, run inside the proxy's TLS relay when the
// login allows it (tls-relay.ts), else inside the routing subsystem of an SSH connection to the proxy.
// Our certificate authenticates us to the node (which checks it and RBAC again: every connection
// is authenticated twice); the node's host certificate must come from the cluster's host CA and
// name the host we asked for.

export interface NodeConnectOptions {
  /** Cluster to route to; default the profile's. */
  cluster?: string
  /** Reuse this proxy connection (several nodes at once); otherwise one is opened and owned. */
  proxyConn?: ssh2.Client
  /**
   * The name the node's host certificate must carry. Default: the host as given. A node picked by
   * label is dialled by its ID, which its certificate carries.
   */
  expectPrincipal?: string
  /** The node's name in messages (default: the host as given; a node picked by label is dialled by ID). */
  displayName?: string
  /** The agent to forward (`-A`): an SSH agent socket, or an agent object (tsh's own keys). */
  agent?: string | ssh2.BaseAgent
  log?: (line: string) => void
  readyTimeoutMs?: number
}

export interface NodeConnection {
  client: ssh2.Client
  /** The node's verified host certificate. */
  hostCert: ParsedCert | undefined
  /** The proxy connection under it (absent over the TLS relay). */
  proxy?: ssh2.Client
  /** The routing subsystem stream (absent over the TLS relay). */
  stream?: NodeStream
  /** How the bytes reach the node. */
  transport: 'tls-relay' | 'ssh-subsystem'
  /** Ends the node session, and the proxy connection when it was opened for it. */
  close(): void
}

export function connectToNode(identity: ConnectIdentity, host: string, port: number | undefined, login: string, options: NodeConnectOptions = {}): Promise<NodeConnection> {
  return withHostCARefresh(identity, () => connectToNodeOnce(identity, host, port, login, options), options.log)
}

async function connectToNodeOnce(identity: ConnectIdentity, host: string, port: number | undefined, login: string, options: NodeConnectOptions): Promise<NodeConnection> {
  const cluster = options.cluster ?? identity.profile.cluster
  let sock: Duplex | undefined
  if (!options.proxyConn && canUseRelay(identity)) {
    try {
      sock = await openTlsRelay(identity, {host, ...(port ? {port} : {}), cluster, login}, options.log ? {log: options.log} : {})
    } catch (err) {
      if (!(err instanceof RelayUnavailableError)) throw err
      options.log?.(`${err.message}; using the proxy's SSH port`)
    }
  }
  const ownsProxy = !options.proxyConn
  let proxy: ssh2.Client | undefined
  let stream: NodeStream | undefined
  if (!sock) {
    proxy = options.proxyConn ?? (await connectToProxy(identity, {username: login, ...(options.log ? {log: options.log} : {})}))
    try {
      stream = await openNodeStream(proxy, host, port, cluster)
    } catch (err) {
      if (ownsProxy) proxy.end()
      throw err
    }
    sock = stream.channel
  }
  options.log?.(`routing to ${host}${port ? `:${port}` : ''} in ${cluster}${stream ? '' : ' through the TLS relay'}`)
  const name = options.displayName ?? host
  const verifier = hostCertVerifier({trustedHostCAs: identity.hostCAs, hostname: options.expectPrincipal ?? host})
  const auth = userAuthOptions(identity, login)
  return new Promise<NodeConnection>((resolve, reject) => {
    const client = new ssh2.Client()
    const close = () => {
      hangUp(client)
      if (ownsProxy && proxy) hangUp(proxy)
      if (!stream) sock!.destroy()
    }
    let failed = false
    const fail = (err: Error & {level?: string}) => {
      // ssh2 may report one failure twice (a reset, then "Connection lost before handshake"):
      // the first decides, the rest must not become an unhandled 'error' that ends the process.
      if (failed) return
      failed = true
      void (async () => {
        const explained = verifier.explain(err)
        // The proxy's own reason (ambiguous host, unreachable node) beats "connection lost"; a
        // refused host certificate or login is the node's answer, with no routing failure to find.
        const routing = explained !== err || err.level === 'client-authentication' || !stream ? undefined : await stream.failure()
        close()
        if (routing) reject(routing)
        else if (explained !== err) {
          const hint = (explained as {hint?: string}).hint
          reject(new UserError(`the node "${name}" is not trusted: ${explained.message}`, {cause: explained, ...(hint ? {hint} : {})}))
        }
        else if (err.level === 'client-authentication') reject(new NodeAccessDeniedError(login, name))
        else if (err.level === 'client-timeout') reject(new UserError(`timed out connecting to ${name} through the proxy`))
        else reject(new UserError(`cannot connect to ${name}: ${err.message}`, {cause: err}))
      })()
    }
    client.on('error', fail)
    failOnCloseBeforeReady(client, fail)
    client.once('ready', () => {
      client.off('error', fail)
      client.on('error', (err) => options.log?.(`node connection: ${err.message}`))
      stream?.channel.stderr.on('data', (chunk: Buffer) => options.log?.(`proxy: ${chunk.toString('utf8').trimEnd()}`))
      options.log?.(`connected to ${name} as ${login}`)
      resolve({client, hostCert: verifier.hostCert, ...(proxy ? {proxy} : {}), ...(stream ? {stream} : {}), transport: stream ? 'ssh-subsystem' : 'tls-relay', close})
    })
    client.connect({
      sock: sock as never,
      // The agent to forward; an agent-only login's own agent (in auth) takes precedence.
      ...(options.agent ? {agent: options.agent} : {}),
      ...auth,
      ...verifier.connectOptions(),
      readyTimeout: options.readyTimeoutMs ?? HANDSHAKE_TIMEOUT_MS,
    })
  })
}
