import net from 'node:net'
import type {Duplex} from 'node:stream'
import type {NodeInfo} from '../../api/auth-api.js'
import {systemClock, type Clock} from '../../lib/clock.js'
import {joinHostPort} from '../../lib/net/ip.js'

// How the proxy reaches a node's SSH server. The proxy's routing decides where (node-lookup.ts)
// and relays the bytes (relay.ts); a NodeDialer only opens the stream, so a dialer that goes
// through reverse tunnels can replace the TCP one without the routing knowing.

export const DIAL_TIMEOUT_MS = 15_000

export interface DialTarget {
  /** The address to reach (the node's announced address, or the host:port a client named). */
  host: string
  port: number
  /** The registered node, when the request named one; absent for a server no node announced (a plain sshd). */
  node?: NodeInfo
}

export interface NodeDialer {
  /** A byte stream to the target's SSH server; rejects with a message that reads well after "failed to connect to X: ". */
  dial(target: DialTarget, options?: {signal?: AbortSignal}): Promise<Duplex>
}

/** Dials the address over TCP (nodes behind reverse tunnels are tunnel-dialer.ts's). */
export class TcpNodeDialer implements NodeDialer {
  constructor(private readonly options: {timeoutMs?: number; clock?: Clock} = {}) {}

  dial(target: DialTarget, options: {signal?: AbortSignal} = {}): Promise<Duplex> {
    if (target.node?.tunnel) return Promise.reject(new Error('the node is connected through a reverse tunnel, which this proxy does not serve'))
    return dialTcp(target.host, target.port, {...this.options, ...options})
  }
}

/** Connects, or rejects with an error whose message reads well after "failed to connect to X: ". */
export function dialTcp(host: string, port: number, options: {timeoutMs?: number; clock?: Clock; signal?: AbortSignal} = {}): Promise<net.Socket> {
  const {timeoutMs = DIAL_TIMEOUT_MS, clock = systemClock, signal} = options
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(new Error('cancelled'))
    const socket = net.connect({host, port})
    const fail = (message: string) => {
      settle()
      socket.destroy()
      reject(new Error(message))
    }
    const timer = clock.setTimer(timeoutMs, () => fail(`timed out after ${Math.round(timeoutMs / 1000)}s`))
    const onAbort = () => fail('cancelled')
    signal?.addEventListener('abort', onAbort, {once: true})
    const settle = () => {
      timer.cancel()
      signal?.removeEventListener('abort', onAbort)
      socket.off('error', onError)
    }
    socket.once('connect', () => {
      settle()
      socket.on('error', () => {}) // until relay() listens: a reset before then must not crash us
      socket.setNoDelay(true)
      socket.setKeepAlive(true, 30_000)
      resolve(socket)
    })
    const onError = (err: NodeJS.ErrnoException) => {
      settle()
      reject(new Error(describeDialError(err, joinHostPort(host, port))))
    }
    socket.once('error', onError)
  })
}

function describeDialError(err: NodeJS.ErrnoException, address: string): string {
  switch (err.code) {
    case 'ECONNREFUSED':
      return 'connection refused'
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return `no such host ${JSON.stringify(address.replace(/:\d+$/, ''))}`
    case 'EHOSTUNREACH':
      return 'no route to host'
    case 'ENETUNREACH':
      return 'network is unreachable'
    case 'ETIMEDOUT':
      return 'timed out'
    default:
      return err.message
  }
}
