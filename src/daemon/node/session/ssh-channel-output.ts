import {constants} from 'node:os'
import type {ServerChannel} from 'ssh2'
import {channelOpen, sendExitSignal, sendExitStatus} from '../../../ssh/server-internals.js'
import type {PartyOutput} from './party.js'

// A session party's output over an SSH session channel: stdout and stderr as the channel's two
// streams; at the end, output flushed, then EOF, then exit-status or exit-signal, then the
// channel closes: OpenSSH's order.

export function sshChannelOutput(channel: ServerChannel): PartyOutput {
  let full: NodeJS.WritableStream = channel
  return {
    write(bytes, stream) {
      const target = stream === 'stderr' ? channel.stderr : channel
      const ok = target.write(bytes)
      if (!ok) full = target
      return ok
    },
    onceDrained(callback) {
      full.once('drain', callback)
    },
    async end(exit) {
      if (exit.startError && channelOpen(channel)) channel.stderr.write(`failed to start the session: ${exit.startError}\r\n`)
      if (channelOpen(channel)) {
        await flush(channel, channel)
        await flush(channel.stderr, channel)
      }
      if (channelOpen(channel)) {
        channel.eof()
        if (exit.signal) sendExitSignal(channel, exit.signal, false, constants.signals[`SIG${exit.signal}` as keyof typeof constants.signals] ?? 0)
        else sendExitStatus(channel, exit.code ?? 0)
        channel.close()
      }
    },
  }
}

/**
 * Resolves once everything written so far has gone out: an empty write queues behind it, and its
 * callback runs when ssh2 has sent what was before it (within the client's window). A channel
 * closing meanwhile resolves too (ssh2 then never calls back).
 */
export function flush(stream: NodeJS.WritableStream & {writable?: boolean}, channel: ServerChannel): Promise<void> {
  if (!stream.writable) return Promise.resolve()
  return new Promise((resolve) => {
    channel.once('close', resolve)
    try {
      stream.write(Buffer.alloc(0), () => resolve())
    } catch {
      resolve()
    }
  })
}
