// A temp directory per test for recordings, and reading a recording to its end or its damage.
import {mkdtemp, rm} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {RecordingReader, RecordingWriter, type ReadOptions, type RecordedEvent, type RecordingWriterOptions} from '../../../../src/events/recording/index.js'
import {FakeClock} from '../../../../src/lib/clock.js'

export async function withTempDir(body: (dir: string) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'recording-'))
  try {
    await body(dir)
  } finally {
    await rm(dir, {recursive: true, force: true})
  }
}

/** Every event the reader hands out, and the error it stopped with (undefined at a clean end). */
export async function readAll(file: string, options: ReadOptions = {}): Promise<{events: RecordedEvent[]; error?: unknown}> {
  const reader = await RecordingReader.open(file)
  return drain(reader, options, () => reader.close())
}

/** Reads `reader` to its end or its damage, then cleans up. */
export async function drain(reader: RecordingReader, options: ReadOptions, cleanUp: () => Promise<void> | void): Promise<{events: RecordedEvent[]; error?: unknown}> {
  const events: RecordedEvent[] = []
  try {
    for await (const recorded of reader.events(options)) events.push(recorded)
    return {events}
  } catch (error) {
    return {events, error}
  } finally {
    await cleanUp()
  }
}

/** A writer on `<dir>/s.tsrec` with its own FakeClock, the session already started (alice, 80:25). */
export async function startedWriter(dir: string, options: Partial<RecordingWriterOptions> & {start?: Date | number} = {}): Promise<{clock: FakeClock; file: string; writer: RecordingWriter}> {
  const {start, ...writerOptions} = options
  const clock = new FakeClock(start)
  const file = join(dir, 's.tsrec')
  const writer = await RecordingWriter.create(file, {clock, fields: {sid: 's'}, ...writerOptions})
  writer.start({user: 'alice', size: '80:25'})
  return {clock, file, writer}
}
