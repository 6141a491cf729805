import assert from 'node:assert/strict'
import {describe, test} from 'node:test'
import {parseKeys} from '../../../../src/client/play/keys.js'
import {parseSpeed} from '../../../../src/client/play/speed.js'
import {UsageError} from '../../../../src/lib/errors.js'

describe('tsh play keys', () => {
  test('space, arrows (CSI and application mode), q, Ctrl-C and Ctrl-D; other bytes ignored', () => {
    assert.deepEqual(parseKeys(' '), ['pause'])
    assert.deepEqual(parseKeys('\x1b[D\x1b[B\x1bOD\x1bOB'), ['back', 'back', 'back', 'back'])
    assert.deepEqual(parseKeys('\x1b[C\x1b[A\x1bOC\x1bOA'), ['forward', 'forward', 'forward', 'forward'])
    assert.deepEqual(parseKeys('q'), ['quit'])
    assert.deepEqual(parseKeys(Buffer.from([3])), ['quit'])
    assert.deepEqual(parseKeys(Buffer.from([4])), ['quit'])
    assert.deepEqual(parseKeys('xz\x1b[5~ \x1b'), ['pause'])
  })
})

describe('--speed', () => {
  test('accepts 2, 2x, 0.5x, .25 and the bounds', () => {
    assert.equal(parseSpeed('2'), 2)
    assert.equal(parseSpeed('2x'), 2)
    assert.equal(parseSpeed('0.5x'), 0.5)
    assert.equal(parseSpeed('.25'), 0.25)
    assert.equal(parseSpeed('16X'), 16)
  })

  test('refuses anything else with one line naming the range', () => {
    for (const bad of ['0', '0.1x', '17', 'fast', '2xx', '-1', '', 'x2']) {
      assert.throws(() => parseSpeed(bad), (err: Error) => err instanceof UsageError && /^--speed: .* is not a speed from 0.25 to 16$/.test(err.message), bad)
    }
  })
})
