import assert from 'node:assert/strict'
import {describe, test} from 'node:test'
import {parseLast, recordingsRange} from '../../../../src/client/recordings/time-range.js'
import {UsageError} from '../../../../src/lib/errors.js'

const NOW = new Date('2026-11-21T12:00:00.000Z')

describe('tsh recordings ls time range', () => {
  test('by default the last 24 hours up to now', () => {
    assert.deepEqual(recordingsRange({}, NOW), {from: new Date('2026-11-20T12:00:00.000Z'), to: NOW})
  })

  test('--last takes Go durations and days', () => {
    assert.equal(parseLast('30m'), 1_800_000)
    assert.equal(parseLast('7d'), 7 * 86_400_000)
    assert.equal(parseLast('1d12h'), 36 * 3_600_000)
    assert.deepEqual(recordingsRange({last: '2h', 'to-utc': '2026-11-21T10:00:00Z'}, NOW), {from: new Date('2026-11-21T08:00:00.000Z'), to: new Date('2026-11-21T10:00:00.000Z')})
  })

  test('--from-utc/--to-utc take RFC 3339 or UTC days (the whole day for --to-utc)', () => {
    assert.deepEqual(recordingsRange({'from-utc': '2026-11-20', 'to-utc': '2026-11-20'}, NOW), {from: new Date('2026-11-20T00:00:00.000Z'), to: new Date('2026-11-20T23:59:59.999Z')})
    assert.deepEqual(recordingsRange({'from-utc': '2026-11-21T11:00:00+01:00'}, NOW), {from: new Date('2026-11-21T10:00:00.000Z'), to: NOW})
  })

  test('bad values are usage errors naming the flag', () => {
    const refused = (flags: Parameters<typeof recordingsRange>[0], message: RegExp) =>
      assert.throws(() => recordingsRange(flags, NOW), (err: Error) => err instanceof UsageError && message.test(err.message))
    refused({last: 'yesterday'}, /^--last: "yesterday" is not a duration$/)
    refused({last: '0h'}, /^--last must be longer than 0$/)
    refused({'from-utc': '21/11/2026'}, /^--from-utc: "21\/11\/2026" is not a time$/)
    refused({'to-utc': '2026-02-30'}, /^--to-utc: /)
    refused({'from-utc': '2026-11-22', 'to-utc': '2026-11-21'}, /^--from-utc \(.*\) is after --to-utc/)
    refused({'from-utc': '2026-11-20', last: '1h'}, /not both/)
  })
})
