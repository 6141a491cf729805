import net from 'node:net'
import type {ServerChannel} from 'ssh2'
import {joinHostPort} from '../../lib/net/ip.js'
import {channelOpen} from '../../ssh/server-internals.js'

// Bytes between the client's subsystem channel and a TCP connection, untouched: the SSH session
// inside is end-to-end between client and node, the proxy never decrypts it. pipe() keeps the
// backpressure of both sides; EOF passes through as a half-close in each direction.

export const DIAL_TIMEOUT_MS = 15_000

/** Connects, or rejects with an error whose message reads well after "failed to connect to X: ". */
export function dialTcp(host: string, port: number, timeoutMs = DIAL_TIMEOUT_MS): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({host, port})
    const timer = setTimeout(() => {
      socket.destroy()
      reject(new Error(`timed out after ${Math.round(timeoutMs / 1000)}s`))
    }, timeoutMs)
    socket.once('connect', () => {
      clearTimeout(timer)
      socket.off('error', onError)
      socket.on('error', () => {}) // until relay() listens: a reset before then must not crash us
      socket.setNoDelay(true)
      socket.setKeepAlive(true, 30_000)
      resolve(socket)
    })
    const onError = (err: NodeJS.ErrnoException) => {
      clearTimeout(timer)
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

/**
 * Relays until both directions are done or either side fails. `first` (the signed preamble)
 * goes to the target before any client byte. Resolves when the relay is over; sends the client
 * exit-status 0 when the target closed cleanly.
 */
export function relay(channel: ServerChannel, socket: net.Socket, first?: Buffer): Promise<void> {
  return new Promise((resolve) => {
    let finished = false
    const finish = () => {
      if (finished) return
      finished = true
      socket.destroy()
      resolve()
    }
    if (channelClosed(channel)) return finish() // the client left while we were dialling
    if (first) socket.write(first)
    channel.pipe(socket) // client EOF → socket.end()
    socket.pipe(channel, {end: false})
    socket.once('end', () => {
      // The target is done sending: tell the client, then end the channel.
      if (!channelClosed(channel)) {
        channel.exit(0)
        channel.end()
      }
    })
    socket.on('error', () => {
      if (!channelClosed(channel)) channel.close()
      finish()
    })
    socket.once('close', () => {
      if (!channelClosed(channel)) channel.end()
      finish()
    })
    channel.once('close', finish)
    channel.on('error', finish)
  })
}

/** The channel can take no more data (we ended it, or the client closed it or vanished). */
export function channelClosed(channel: ServerChannel): boolean {
  return !channelOpen(channel)
}
