import type {Duplex} from 'node:stream'
import {BadParameterError} from '../lib/errors.js'

// The proxy's TLS relay to nodes (served on the web port, src/daemon/proxy/tls-relay.ts; used by
// `tsh ssh` and `tsh proxy ssh`, src/client/connect/tls-relay.ts). Mutual TLS 1.3 with ALPN
// SSH_RELAY_ALPN: the client's X.509 certificate (signed by the cluster's TLS user CA at login)
// says who it is. The client then writes one JSON line, the dial request; the proxy answers one
// JSON line, and from then on the connection carries the client's end-to-end SSH bytes to the
// node, untouched:
//
//   client → proxy   {"host":"node-1","port":0,"cluster":"example.com","login":"root"}\n
//   proxy → client   {"ok":true}\n    or    {"error":"node \"node-1\" is not found"}\n
//
// A refused certificate is answered with the error line before any request is read.

export const SSH_RELAY_ALPN = 'teleport-ssh-relay'
/** A request or answer line longer than this is refused (the ambiguous-host table fits). */
export const MAX_RELAY_LINE_BYTES = 64 * 1024

export interface RelayDialRequest {
  host: string
  /** 0 or absent: the node's own port. */
  port?: number
  cluster: string
  /** The login the client will use on the node (for the audit event; the node checks it). */
  login?: string
}

export type RelayAnswer = {ok: true} | {error: string}

export function encodeRelayLine(value: RelayDialRequest | RelayAnswer): Buffer {
  return Buffer.from(`${JSON.stringify(value)}\n`)
}

const SAFE = /^[^\s\x00-\x1f\x7f]{1,255}$/

/** Throws BadParameterError with a sentence for the client. */
export function parseRelayRequest(line: string): RelayDialRequest {
  let raw: unknown
  try {
    raw = JSON.parse(line)
  } catch {
    throw new BadParameterError('the dial request is not JSON')
  }
  const r = raw as Record<string, unknown>
  if (typeof r !== 'object' || r === null) throw new BadParameterError('the dial request is not a JSON object')
  if (typeof r.host !== 'string' || !SAFE.test(r.host)) throw new BadParameterError('the dial request has no valid "host"')
  if (typeof r.cluster !== 'string' || !SAFE.test(r.cluster)) throw new BadParameterError('the dial request has no valid "cluster"')
  if (r.port !== undefined && !(Number.isInteger(r.port) && (r.port as number) >= 0 && (r.port as number) <= 65535)) throw new BadParameterError('the dial request\'s "port" must be 0-65535')
  if (r.login !== undefined && (typeof r.login !== 'string' || !SAFE.test(r.login))) throw new BadParameterError('the dial request\'s "login" is invalid')
  return {host: r.host, cluster: r.cluster, ...(r.port ? {port: r.port as number} : {}), ...(r.login ? {login: r.login as string} : {})}
}

export function parseRelayAnswer(line: string): RelayAnswer {
  try {
    const raw = JSON.parse(line) as Record<string, unknown>
    if (raw?.ok === true) return {ok: true}
    if (typeof raw?.error === 'string') return {error: raw.error}
  } catch {
    // below
  }
  throw new BadParameterError('the proxy answered the dial request with something unreadable')
}

/**
 * Reads one line from `stream` (at most MAX_RELAY_LINE_BYTES) and puts back whatever followed
 * it, so the bytes after the line reach whoever reads next. Resolves undefined when the stream
 * ends or fails first.
 */
export function readRelayLine(stream: Duplex): Promise<string | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = []
    let size = 0
    const done = (fn: () => void) => {
      stream.off('data', onData)
      stream.off('end', onEnd)
      stream.off('close', onEnd)
      stream.off('error', onEnd)
      stream.pause()
      fn()
    }
    const onEnd = () => done(() => resolve(undefined))
    const onData = (chunk: Buffer) => {
      const nl = chunk.indexOf(0x0a)
      if (nl < 0) {
        chunks.push(chunk)
        size += chunk.length
        if (size > MAX_RELAY_LINE_BYTES) done(() => reject(new BadParameterError(`the relay line is longer than ${MAX_RELAY_LINE_BYTES} bytes`)))
        return
      }
      chunks.push(chunk.subarray(0, nl))
      const rest = chunk.subarray(nl + 1)
      done(() => {
        if (rest.length) stream.unshift(rest)
        resolve(Buffer.concat(chunks).toString('utf8'))
      })
    }
    stream.on('data', onData)
    stream.once('end', onEnd)
    stream.once('close', onEnd)
    stream.once('error', onEnd)
  })
}

/**
 * Splices two streams both ways with back-pressure (pipe); EOF passes through, and when one
 * closes the other is ended (its buffered bytes still flushed); a failure destroys both.
 * Resolves when both are closed.
 */
export function splice(a: Duplex, b: Duplex): Promise<void> {
  return new Promise((resolve) => {
    let closed = 0
    const onClose = (other: Duplex) => () => {
      if (!other.writableEnded) other.end()
      if (++closed === 2) resolve()
    }
    const fail = () => {
      a.destroy()
      b.destroy()
    }
    a.once('close', onClose(b))
    b.once('close', onClose(a))
    a.on('error', fail)
    b.on('error', fail)
    a.pipe(b)
    b.pipe(a)
  })
}
