import assert from 'node:assert/strict'
import {readFile, stat, writeFile} from 'node:fs/promises'
import {describe, test} from 'node:test'
import {RecordingDamagedError, RecordingReader} from '../../../../src/events/recording/index.js'
import {readAll, startedWriter, withTempDir} from './temp-recording.js'

const CHUNK_HEADER_BYTES = 40

async function sizeAt(file: string, atMs: number) {
  const reader = await RecordingReader.open(file)
  try {
    return await reader.terminalSizeAt(atMs)
  } finally {
    await reader.close()
  }
}

describe('seeking in a recording by time', () => {
  test('starts at the first event at or after the given time, skipping earlier chunks unread, and knows the terminal size there', () => withTempDir(async (dir) => {
    const {clock, file, writer} = await startedWriter(dir)
    const chunkOffsets: number[] = []
    for (let i = 1; i <= 100; i++) {
      await clock.advanceAsync(1000)
      await writer.written()
      chunkOffsets.push((await stat(file)).size)
      writer.print(Buffer.from(`line ${i}\r\n`))
      if (i === 30) writer.resize('100:30')
    }
    await writer.end({interactive: true})

    const {events, error} = await readAll(file, {fromMs: 49_500})
    assert.equal(error, undefined)
    assert.equal(events[0]!.elapsedMs, 50_000)
    assert.equal(events[0]!.data!.toString(), 'line 50\r\n')
    assert.equal(events.length, 52)
    assert.deepEqual(await sizeAt(file, 49_500), {cols: 100, rows: 30})
    assert.deepEqual(await sizeAt(file, 30_000), {cols: 80, rows: 25})
    assert.deepEqual(await sizeAt(file, 30_001), {cols: 100, rows: 30})
    assert.deepEqual(await sizeAt(file, 0), undefined)

    // The payload of an early chunk is garbage: a seek past it never reads it, a full read stops there.
    const bytes = await readFile(file)
    bytes[chunkOffsets[10]! + CHUNK_HEADER_BYTES + 15]! ^= 0xff
    await writeFile(file, bytes)
    assert.equal((await readAll(file, {fromMs: 49_500})).events.length, 52)
    const full = await readAll(file)
    assert.ok(full.error instanceof RecordingDamagedError)
    assert.equal(full.error.byteOffset, chunkOffsets[10])
  }))
})
