import assert from 'node:assert/strict'
import {PassThrough} from 'node:stream'
import {describe, test} from 'node:test'
import {encodeRelayLine, MAX_RELAY_LINE_BYTES, parseRelayAnswer, parseRelayRequest, readRelayLine} from '../../../src/api/ssh-relay.js'
import {BadParameterError} from '../../../src/lib/errors.js'

describe('the TLS relay\'s dial request and answer', () => {
  test('a request round-trips; port 0 and a missing login are left out', () => {
    const line = encodeRelayLine({host: 'node-1', port: 0, cluster: 'example.com'}).toString().trimEnd()
    assert.deepEqual(parseRelayRequest(line), {host: 'node-1', cluster: 'example.com'})
    assert.deepEqual(parseRelayRequest('{"host":"::1","port":3022,"cluster":"c","login":"root"}'), {host: '::1', port: 3022, cluster: 'c', login: 'root'})
  })

  test('bad requests are refused with a sentence', () => {
    for (const bad of ['not json', '[]', '{"cluster":"c"}', '{"host":"a b","cluster":"c"}', '{"host":"h","cluster":"c","port":70000}', '{"host":"h","cluster":"c","login":"\\n"}']) {
      assert.throws(() => parseRelayRequest(bad), BadParameterError, bad)
    }
  })

  test('answers: ok, or the proxy\'s error; anything else is refused', () => {
    assert.deepEqual(parseRelayAnswer('{"ok":true}'), {ok: true})
    assert.deepEqual(parseRelayAnswer('{"error":"node \\"x\\" is not found"}'), {error: 'node "x" is not found'})
    assert.throws(() => parseRelayAnswer('SSH-2.0-OpenSSH'), BadParameterError)
  })

  test('readRelayLine leaves the bytes after the line for the next reader', async () => {
    const stream = new PassThrough()
    stream.write(Buffer.from('{"ok":tr'))
    stream.write(Buffer.from('ue}\nSSH-2.0-node\r\n'))
    assert.equal(await readRelayLine(stream), '{"ok":true}')
    assert.equal(String(stream.read()), 'SSH-2.0-node\r\n')
  })

  test('readRelayLine: undefined at EOF; a line without end is refused', async () => {
    const ended = new PassThrough()
    ended.end('partial')
    assert.equal(await readRelayLine(ended), undefined)
    const endless = new PassThrough()
    endless.write(Buffer.alloc(MAX_RELAY_LINE_BYTES + 1, 0x61))
    await assert.rejects(readRelayLine(endless), BadParameterError)
  })
})
