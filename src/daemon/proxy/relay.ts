import type {Duplex} from 'node:stream'
import type {ServerChannel} from 'ssh2'
import {channelOpen} from '../../ssh/server-internals.js'

// Bytes between the client's subsystem channel and a dialled stream (node-dialer.ts), untouched:
// the SSH session inside is end-to-end between client and node, the proxy never decrypts it.
// pipe() keeps the backpressure of both sides; EOF passes through as a half-close in each direction.

/**
 * Relays until both directions are done or either side fails. Resolves when the relay is over;
 * on a session channel (a subsystem) sends the client exit-status 0 when the target closed
 * cleanly; a direct-tcpip channel (`session: false`) has no exit status.
 */
export function relay(channel: ServerChannel, stream: Duplex, options: {session?: boolean} = {}): Promise<void> {
  return new Promise((resolve) => {
    let finished = false
    const finish = () => {
      if (finished) return
      finished = true
      stream.destroy()
      resolve()
    }
    if (channelClosed(channel)) return finish() // the client left while we were dialling
    channel.pipe(stream) // client EOF → stream.end()
    stream.pipe(channel, {end: false})
    stream.once('end', () => {
      // The target is done sending: tell the client, then end the channel.
      if (!channelClosed(channel)) {
        if (options.session !== false) channel.exit(0)
        channel.end()
      }
    })
    stream.on('error', () => {
      if (!channelClosed(channel)) channel.close()
      finish()
    })
    stream.once('close', () => {
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
