import type {Duplex, Readable, Writable} from 'node:stream'
import {StringDecoder} from 'node:string_decoder'
import {UsageError} from '../../lib/errors.js'
import {safeLines, safeText} from '../../lib/safe-text.js'
import {hangUp} from '../../ssh/index.js'
import {proxyHost, type ConnectIdentity} from './identity.js'
import {openNodeStream} from './node-stream.js'
import {canUseRelay, openTlsRelay, RelayUnavailableError} from './tls-relay.js'

// `tsh proxy ssh [login@]host[:port]`: OpenSSH's ProxyCommand. It carries the SSH connection
// OpenSSH makes to the node, unchanged, over the proxy's TLS relay when the login allows it
// (tls-relay.ts), else over the proxy's routing subsystem: stdin to the proxy, the proxy to stdout. OpenSSH authenticates to the node itself (with the certificate tsh wrote
// for it); we authenticate to the proxy with the same certificate.

export interface ProxyTarget {
  login?: string
  host: string
  port?: number
}

/** `[login@]host[:port]`, `host` may be `[v6]`; splits the login on the last `@`. */
export function parseProxyTarget(text: string): ProxyTarget {
  const at = text.lastIndexOf('@')
  const login = at === -1 ? undefined : text.slice(0, at)
  const rest = at === -1 ? text : text.slice(at + 1)
  let host = rest
  let portText: string | undefined
  const v6 = /^\[([^\]]+)\](?::(.*))?$/.exec(rest)
  if (v6) {
    host = v6[1]!
    portText = v6[2]
  } else if ((rest.match(/:/g) ?? []).length === 1) {
    host = rest.slice(0, rest.indexOf(':'))
    portText = rest.slice(rest.indexOf(':') + 1)
  }
  if (!host) throw new UsageError(`"${text}": the host is empty`, {hint: 'expected [login@]host[:port], e.g. %r@%h:%p in a ProxyCommand'})
  if (login === '') throw new UsageError(`"${text}": the login before "@" is empty`)
  const target: ProxyTarget = {host}
  if (login !== undefined) target.login = login
  if (portText !== undefined && portText !== '') {
    const port = Number(portText)
    if (!/^\d+$/.test(portText) || port < 1 || port > 65535) throw new UsageError(`"${text}": "${portText}" is not a port number`)
    target.port = port
  }
  return target
}

/**
 * `node-1.proxy.example.com` / `node-1.example.com` → `node-1`: ssh_config matches cluster hosts
 * by suffix (`Host *.example.com`), the proxy knows them by their own names.
 */
export function stripClusterSuffixes(host: string, proxy: string, cluster: string): string {
  let out = host
  if (proxy && out.endsWith(`.${proxy}`)) out = out.slice(0, -(proxy.length + 1))
  if (cluster && out.endsWith(`.${cluster}`)) out = out.slice(0, -(cluster.length + 1))
  return out
}

export interface ProxyCommandIO {
  stdin: Readable
  stdout: Writable
  stderr: Writable
}

/** Pipes until either side closes; resolves with the exit status (1 when the proxy refused). */
export async function runProxyCommand(identity: ConnectIdentity, target: ProxyTarget, options: {cluster?: string; log?: (line: string) => void}, io: ProxyCommandIO): Promise<number> {
  const cluster = options.cluster ?? identity.profile.cluster
  const host = stripClusterSuffixes(target.host, proxyHost(identity.profile), cluster)
  if (canUseRelay(identity)) {
    try {
      const socket = await openTlsRelay(identity, {host, ...(target.port ? {port: target.port} : {}), cluster, ...(target.login ? {login: target.login} : {})}, options.log ? {log: options.log} : {})
      return await spliceStdio(socket, io)
    } catch (err) {
      if (!(err instanceof RelayUnavailableError)) throw err
      options.log?.(`${err.message}; using the proxy's SSH port`)
    }
  }
  // Loaded only here: the relay path needs no SSH stack in tsh at all.
  const {connectToProxy} = await import('./proxy.js')
  const proxy = await connectToProxy(identity, {
    ...(target.login ? {username: target.login} : {}),
    ...(options.log ? {log: options.log} : {}),
  })
  try {
    const stream = await openNodeStream(proxy, host, target.port, cluster)
    const channel = stream.channel
    return await new Promise<number>((resolve) => {
      const finish = () => {
        io.stdin.unpipe(channel)
        io.stdin.pause()
        if (stream.exitCode !== undefined && stream.exitCode !== 0) {
          // The proxy refused the route: its reason, as it wrote it, is already on stderr.
          if (!stream.stderr.trim()) io.stderr.write(`ERROR: the proxy could not connect to ${safeText(host)}\n`)
          resolve(1)
        } else resolve(0)
      }
      // The proxy may have answered already (an ambiguity, a refusal): pass on what came before
      // we listened, then the rest as it comes.
      // Escaped: it carries names nodes chose.
      if (stream.stderr) io.stderr.write(safeLines(stream.stderr))
      const decoder = new StringDecoder('utf8')
      channel.stderr.on('data', (chunk: Buffer) => io.stderr.write(safeLines(decoder.write(chunk))))
      if (stream.isClosed) return finish()
      channel.once('close', finish)
      channel.pipe(io.stdout)
      io.stdin.pipe(channel)
      // The other end (OpenSSH) went away: nothing more to carry.
      io.stdout.on('error', () => channel.close())
    })
  } finally {
    hangUp(proxy)
  }
}

/** stdin → the relay, the relay → stdout, with back-pressure; done when the relay closes. */
function spliceStdio(socket: Duplex, io: ProxyCommandIO): Promise<number> {
  return new Promise((resolve) => {
    socket.pipe(io.stdout)
    io.stdin.pipe(socket)
    io.stdout.on('error', () => socket.destroy())
    socket.once('close', () => {
      io.stdin.unpipe(socket)
      io.stdin.pause()
      resolve(0)
    })
  })
}
