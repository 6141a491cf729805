import {Duplex} from 'node:stream'

// Two connected in-memory streams, as a socketpair: what one writes the other reads; ending one
// ends the other's reading; destroying one closes both (a reset). stream.duplexPair is node 22+.

export function duplexPair(): [Duplex, Duplex] {
  const ends: Duplex[] = []
  const end = (other: () => Duplex) =>
    new Duplex({
      read() {},
      write(chunk: Buffer, _encoding, done) {
        other().push(chunk)
        done()
      },
      final(done) {
        other().push(null)
        done()
      },
      destroy(err, done) {
        if (!other().destroyed) other().destroy()
        done(err)
      },
    })
  ends.push(end(() => ends[1]!), end(() => ends[0]!))
  return [ends[0]!, ends[1]!]
}
