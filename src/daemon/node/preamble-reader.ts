import type {Duplex} from 'node:stream'
import {systemClock, type Clock} from '../../lib/clock.js'
import {MAX_PREAMBLE_BYTES, PREAMBLE_PREFIX} from '../common/proxy-preamble.js'

// Before the SSH bytes, a connection relayed by our proxy starts with the proxy's signed
// preamble line (src/daemon/common/proxy-preamble.ts). This reads it without consuming any SSH
// bytes: SSH clients speak first ("SSH-2.0-..."), so the first bytes tell which it is. Whatever
// follows the line is put back on the socket for the SSH server.

const PREFIX = Buffer.from(PREAMBLE_PREFIX)

export class PreambleError extends Error {}

/**
 * Resolves with the preamble line (without CRLF) or undefined when the connection is plain SSH.
 * A client that sends nothing for `quietMs` is taken as plain SSH too (some wait for the server's
 * version line first). Rejects with PreambleError on an overlong or cut-off preamble.
 * The socket is left paused with every unread byte back in it.
 */
export function readPreamble(socket: Duplex, quietMs = 2000, clock: Clock = systemClock): Promise<string | undefined> {
  return new Promise((resolve, reject) => {
    let buffered: Buffer = Buffer.alloc(0)
    let settled = false
    const finish = (err: Error | undefined, line: string | undefined, rest: Buffer) => {
      settled = true
      timer.cancel()
      socket.pause()
      socket.off('data', onData)
      socket.off('end', onEnd)
      socket.off('error', onEnd)
      if (err) return reject(err)
      if (rest.length) socket.unshift(rest)
      resolve(line)
    }
    const onData = (chunk: Buffer) => {
      buffered = buffered.length ? Buffer.concat([buffered, chunk]) : chunk
      const compared = Math.min(buffered.length, PREFIX.length)
      if (!buffered.subarray(0, compared).equals(PREFIX.subarray(0, compared))) return finish(undefined, undefined, buffered)
      if (buffered.length < PREFIX.length) return // not sure yet
      const end = buffered.indexOf('\r\n')
      if (end >= 0 && end <= MAX_PREAMBLE_BYTES) return finish(undefined, buffered.subarray(0, end).toString('utf8'), buffered.subarray(end + 2))
      if (buffered.length > MAX_PREAMBLE_BYTES) return finish(new PreambleError(`proxy preamble longer than ${MAX_PREAMBLE_BYTES} bytes`), undefined, Buffer.alloc(0))
    }
    const onEnd = () => finish(new PreambleError('the connection closed before the SSH handshake'), undefined, Buffer.alloc(0))
    const timer = clock.setTimer(quietMs, () => {
      // A busy event loop runs due timers before it reads sockets: a preamble already here would
      // be taken for a silent client (then the SSH server refused the preamble line as a version
      // line, and the client saw the connection close mid-handshake). Decide after the loop has
      // polled its sockets once more (two check phases: one poll phase lies between them).
      setImmediate(() =>
        setImmediate(() => {
          if (settled) return
          if (buffered.length === 0) finish(undefined, undefined, buffered)
          else finish(new PreambleError('timed out reading the proxy preamble'), undefined, Buffer.alloc(0))
        }),
      )
    })
    socket.on('data', onData)
    socket.once('end', onEnd)
    socket.once('error', onEnd)
  })
}
