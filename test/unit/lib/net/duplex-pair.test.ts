import assert from 'node:assert/strict'
import {once} from 'node:events'
import {describe, test} from 'node:test'
import {duplexPair} from '../../../../src/lib/net/duplex-pair.js'

// The in-memory socketpair the recording proxy hands its callers: bytes both ways, EOF per
// direction, a reset closes both, and a writer waits for a reader that stopped reading.

describe('duplexPair', () => {
  test('bytes both ways, EOF in one direction leaves the other open', async () => {
    const [a, b] = duplexPair()
    const got: Buffer[] = []
    b.on('data', (d: Buffer) => got.push(d))
    a.write('hello ')
    a.end('world')
    await once(b, 'end')
    assert.equal(Buffer.concat(got).toString(), 'hello world')
    const back = once(a, 'data')
    b.write('still open')
    assert.equal(String((await back)[0]), 'still open')
  })

  test('a writer waits while its reader does not read, and goes on once it does', async () => {
    const [a, b] = duplexPair()
    b.pause()
    const chunk = Buffer.alloc(64 * 1024, 1)
    let writes = 0
    while (a.write(chunk) && writes < 1000) writes++
    assert.ok(writes < 1000, 'write() said wait before 64 MiB were queued')
    let received = 0
    b.on('data', (d: Buffer) => (received += d.length))
    const drained = once(a, 'drain')
    b.resume()
    await drained
    assert.ok(received > 0)
  })

  test('destroying one end closes both', async () => {
    const [a, b] = duplexPair()
    const closed = once(b, 'close')
    a.destroy()
    await closed
    assert.equal(b.destroyed, true)
  })
})
