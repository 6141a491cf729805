import assert from 'node:assert/strict'
import {describe, test} from 'node:test'
import {MessageReader, SSH_AGENT_FAILURE, frame} from '../../../src/client/agent/protocol.js'
import {BadParameterError} from '../../../src/lib/errors.js'

// The agent protocol's framing, as read from a socket whose other end may be anyone.

describe('agent MessageReader', () => {
  test('whole messages come out however the bytes are cut', () => {
    const reader = new MessageReader()
    const bytes = Buffer.concat([frame(SSH_AGENT_FAILURE), frame(12, Buffer.from([0, 0, 0, 0]))])
    assert.deepEqual(reader.push(bytes.subarray(0, 7)), [{type: SSH_AGENT_FAILURE, body: Buffer.alloc(0)}])
    assert.deepEqual(reader.push(bytes.subarray(7)), [{type: 12, body: Buffer.from([0, 0, 0, 0])}])
  })

  for (const length of [0, 256 * 1024 + 1, 0xffffffff]) {
    test(`a frame claiming ${length} bytes is refused as bad input (BadParameterError)`, () => {
      const header = Buffer.alloc(5)
      header.writeUInt32BE(length)
      assert.throws(() => new MessageReader().push(header), (err) => err instanceof BadParameterError && /out of range/.test(err.message))
    })
  }
})
