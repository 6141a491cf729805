import assert from 'node:assert/strict'
import {test} from 'node:test'
import {clock, duration} from '../../web/src/format.js'

// How the player shows its time and the recordings list a duration.

test('the player clock reads mm:ss, and h:mm:ss from an hour on', () => {
  assert.equal(clock(0), '00:00')
  assert.equal(clock(83_999), '01:23')
  assert.equal(clock(59 * 60_000 + 59_999), '59:59')
  assert.equal(clock(3_723_000), '1:02:03')
  assert.equal(clock(-5), '00:00')
})

test('a duration reads in seconds, minutes or hours', () => {
  assert.equal(duration(4_400), '4s')
  assert.equal(duration(125_000), '2m 05s')
  assert.equal(duration(3_720_000), '1h 02m')
})
