// Where a reader gets a recording's bytes: a file (positioned reads, any order) or a stream (a
// download from auth, read forward once, holding only what the current chunk needs).
import type {FileHandle} from 'node:fs/promises'
import {BadParameterError} from '../../lib/errors.js'

export interface ByteSource {
  /** Up to `length` bytes from `position`: fewer only where the recording ends. */
  readAt(position: number, length: number): Promise<Buffer>
}

export function fileSource(handle: FileHandle): ByteSource {
  return {
    async readAt(position, length) {
      const buffer = Buffer.alloc(length)
      let filled = 0
      while (filled < length) {
        const {bytesRead} = await handle.read(buffer, filled, length - filled, position + filled)
        if (bytesRead === 0) break
        filled += bytesRead
      }
      return buffer.subarray(0, filled)
    },
  }
}

/** A source over a stream: positions may only move forward; bytes before the one asked for are dropped. */
export function streamSource(stream: AsyncIterable<Uint8Array>): ByteSource {
  const iterator = stream[Symbol.asyncIterator]()
  let parts: Buffer[] = []
  /** Stream position of parts[0][0], and how many bytes parts hold. */
  let start = 0
  let buffered = 0
  let ended = false

  const dropBefore = (position: number) => {
    while (start < position && parts.length) {
      const first = parts[0]!
      const drop = Math.min(first.length, position - start)
      if (drop === first.length) parts.shift()
      else parts[0] = first.subarray(drop)
      start += drop
      buffered -= drop
    }
  }

  return {
    async readAt(position, length) {
      if (position < start) throw new BadParameterError('a streamed recording is read forward only')
      for (;;) {
        dropBefore(position)
        if ((start === position && buffered >= length) || ended) break
        const next = await iterator.next()
        if (next.done) {
          ended = true
        } else {
          const bytes = Buffer.isBuffer(next.value) ? next.value : Buffer.from(next.value.buffer, next.value.byteOffset, next.value.byteLength)
          parts.push(bytes)
          buffered += bytes.length
        }
      }
      if (start !== position) return Buffer.alloc(0)
      if (parts.length > 1) parts = [Buffer.concat(parts)]
      return (parts[0] ?? Buffer.alloc(0)).subarray(0, length)
    },
  }
}
