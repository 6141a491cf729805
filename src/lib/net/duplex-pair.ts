import {Duplex} from 'node:stream'

// Two connected in-memory streams, as a socketpair: what one writes the other reads (a write
// completes once the reader has room: back-pressure as on a socket); ending one ends the other's
// reading; destroying one closes both (a reset). stream.duplexPair is node 22+.

export function duplexPair(): [Duplex, Duplex] {
  const ends: Duplex[] = []
  /** A write waiting for its reader to want more. */
  const waiting: Array<(() => void) | undefined> = [undefined, undefined]
  const end = (me: number, other: number) =>
    new Duplex({
      read() {
        // The reader wants more: let the other end's held write complete.
        const resume = waiting[other]
        waiting[other] = undefined
        resume?.()
      },
      write(chunk: Buffer, _encoding, done) {
        if (ends[other]!.push(chunk)) done()
        else waiting[me] = done
      },
      final(done) {
        ends[other]!.push(null)
        done()
      },
      destroy(err, done) {
        const resume = waiting[me]
        waiting[me] = undefined
        resume?.()
        if (!ends[other]!.destroyed) ends[other]!.destroy()
        done(err)
      },
    })
  ends.push(end(0, 1), end(1, 0))
  return [ends[0]!, ends[1]!]
}
