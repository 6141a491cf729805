import assert from 'node:assert/strict'
import {randomBytes} from 'node:crypto'
import {join} from 'node:path'
import {describe, test} from 'node:test'
import {FakeClock} from '../../../../src/lib/clock.js'
import {RecordingReader, RecordingWriter} from '../../../../src/events/recording/index.js'
import {withTempDir} from './temp-recording.js'

const MiB = 1024 * 1024
const OUTPUT_BYTES = 200 * MiB
const GROWTH_BOUND = 64 * MiB

describe('reading a large recording', () => {
  test('200 MB of output streams through with bounded memory', () => withTempDir(async (dir) => {
    const clock = new FakeClock()
    const file = join(dir, 'large.tsrec')
    const writer = await RecordingWriter.create(file, {clock, fields: {sid: 'large'}})
    writer.start({user: 'alice', size: '80:25'})
    // base64 of random bytes: compresses about as badly as `head -c 150M /dev/urandom | base64`.
    const block = Buffer.from(randomBytes(48 * 1024).toString('base64'))
    for (let written = 0, i = 0; written < OUTPUT_BYTES; written += block.length, i++) {
      writer.print(block)
      clock.advance(5)
      if (i % 16 === 15) await writer.written()
    }
    await writer.end({interactive: true})

    const baseline = process.memoryUsage().rss
    let peak = baseline
    let outputBytes = 0
    let events = 0
    const reader = await RecordingReader.open(file)
    try {
      for await (const {data} of reader) {
        outputBytes += data?.length ?? 0
        if (++events % 64 === 0) peak = Math.max(peak, process.memoryUsage().rss)
      }
    } finally {
      await reader.close()
    }
    assert.ok(outputBytes >= OUTPUT_BYTES, `read ${outputBytes} bytes of output`)
    const growth = peak - baseline
    assert.ok(growth < GROWTH_BOUND, `memory grew by ${Math.round(growth / MiB)} MiB while reading`)
  }))
})
