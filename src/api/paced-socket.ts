import {Duplex} from 'node:stream'

// The socket undici speaks HTTP on, over an SSH channel. undici reads everything buffered, parses
// what its body stream can take, and unshifts the rest back. On a channel that read still counts
// as consumed, so the channel widens its SSH window and the peer sends more: a download faster
// than its reader piled up in memory without bound. Here data is taken from the channel only
// while what waits (unshifted bytes included, looked at after undici has put them back) is under
// the high-water mark, so the channel's window, and so the peer, waits for the reader.

const HIGH_WATER_MARK = 256 * 1024

export function pacedSocket(channel: Duplex): Duplex {
  let checking = false
  const socket: Duplex = new Duplex({
    highWaterMark: HIGH_WATER_MARK,
    read() {
      if (checking) return
      checking = true
      setImmediate(() => {
        checking = false
        if (socket.readableLength < HIGH_WATER_MARK) channel.resume()
      })
    },
    write(chunk, encoding, callback) {
      channel.write(chunk, encoding, callback)
    },
    final(callback) {
      channel.end()
      callback()
    },
    destroy(err, callback) {
      channel.destroy(err ?? undefined)
      callback(err)
    },
  })
  channel.on('data', (chunk: Buffer) => {
    if (!socket.push(chunk)) channel.pause()
  })
  channel.once('end', () => socket.push(null))
  channel.once('error', (err: Error) => socket.destroy(err))
  channel.once('close', () => {
    if (!socket.destroyed) socket.destroy()
  })
  return socket
}
