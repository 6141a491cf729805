import assert from 'node:assert/strict'
import {join} from 'node:path'
import {describe, test} from 'node:test'
import {BadParameterError} from '../../../../src/lib/errors.js'
import {RecordingReader, toAsciicast, type RecordedEvent} from '../../../../src/events/recording/index.js'
import {startedWriter, withTempDir} from './temp-recording.js'

async function castOf(events: AsyncIterable<RecordedEvent>): Promise<unknown[]> {
  const lines: unknown[] = []
  for await (const line of toAsciicast(events)) {
    assert.ok(line.endsWith('\n'))
    lines.push(JSON.parse(line))
  }
  return lines
}

describe('toAsciicast', () => {
  test('a header with width and height, then output and resizes (COLSxROWS) with their times', () => withTempDir(async (dir) => {
    const {clock, file, writer} = await startedWriter(dir, {start: Date.UTC(2026, 0, 1, 12, 0, 0)})
    clock.advance(500)
    writer.print(Buffer.from('$ ls\r\n'))
    clock.advance(1250)
    writer.resize('120:40')
    writer.join({user: 'bob'})
    // A two-byte character split across two prints comes out whole.
    const euro = Buffer.from('€!')
    writer.print(euro.subarray(0, 2))
    clock.advance(10)
    writer.print(euro.subarray(2))
    await writer.end({interactive: true})

    const reader = await RecordingReader.open(file)
    try {
      assert.deepEqual(await castOf(reader), [
        {version: 2, width: 80, height: 25, timestamp: Date.UTC(2026, 0, 1, 12, 0, 0) / 1000},
        [0.5, 'o', '$ ls\r\n'],
        [1.75, 'r', '120x40'],
        [1.76, 'o', '€!'],
      ])
    } finally {
      await reader.close()
    }
  }))

  test('a recording that does not begin with session.start is refused', async () => {
    async function* onlyPrint(): AsyncGenerator<RecordedEvent> {
      yield {event: {event: 'print', ei: 0, time: '2026-01-01T00:00:00.000Z', ci: 0, bytes: 1, ms: 0, offset: 0}, data: Buffer.from('x'), elapsedMs: 0}
    }
    await assert.rejects(castOf(onlyPrint()), BadParameterError)
  })
})
