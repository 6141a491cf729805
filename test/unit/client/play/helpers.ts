// Recordings for the player's tests: events made by hand in memory (a source whose reads are
// promise-only, so FakeClock steps are exact), and real recording files made by RecordingWriter.
import {join} from 'node:path'
import {Writable} from 'node:stream'
import {parseTerminalSize, RecordingWriter, type RecordedEvent, type TerminalSize} from '../../../../src/events/recording/index.js'
import {FakeClock} from '../../../../src/lib/clock.js'
import type {RecordingSource} from '../../../../src/client/recordings/source.js'

export const T0 = Date.UTC(2026, 10, 21, 9, 30)

function at(elapsedMs: number): string {
  return new Date(T0 + elapsedMs).toISOString()
}

export function start(elapsedMs: number, size = '80:25'): RecordedEvent {
  return {event: {event: 'session.start', code: 'T2000I', uid: 'u', ei: 0, time: at(elapsedMs), size, user: 'alice', sid: 's'}, elapsedMs}
}

export function print(elapsedMs: number, text: string): RecordedEvent {
  const data = Buffer.from(text)
  return {event: {event: 'print', ei: 0, ci: 0, bytes: data.length, ms: elapsedMs, offset: 0, time: at(elapsedMs)}, data, elapsedMs}
}

export function resize(elapsedMs: number, size: string): RecordedEvent {
  return {event: {event: 'resize', code: 'T2002I', uid: 'u', ei: 0, time: at(elapsedMs), size}, elapsedMs}
}

/** A source over `events`, noting every position it was asked to read from. */
export function arraySource(events: RecordedEvent[]): RecordingSource & {reads: number[]; closed: boolean} {
  const source = {
    name: 'test recording',
    reads: [] as number[],
    closed: false,
    async from(fromMs: number) {
      source.reads.push(fromMs)
      let size: TerminalSize | undefined
      for (const e of events) {
        if (e.elapsedMs >= fromMs) break
        if (e.event.event === 'session.start' || e.event.event === 'resize') size = parseTerminalSize(e.event.size) ?? size
      }
      async function* rest(): AsyncGenerator<RecordedEvent> {
        for (const e of events) if (e.elapsedMs >= fromMs) yield e
      }
      return {...(fromMs > 0 && size ? {size} : {}), events: rest()}
    },
    async close() {
      source.closed = true
    },
  }
  return source
}

/** A terminal stand-in: every write with the fake time it came at. */
export class Screen extends Writable {
  readonly writes: {at: number; text: string}[] = []
  isTTY = false
  constructor(private readonly clock: FakeClock) {
    super()
  }
  override _write(chunk: Buffer, _encoding: BufferEncoding, done: () => void): void {
    this.writes.push({at: this.clock.now().getTime(), text: chunk.toString('utf8')})
    done()
  }
  get text(): string {
    return this.writes.map((w) => w.text).join('')
  }
  /** When `text` was written (the first write that holds it), or undefined. */
  when(text: string): number | undefined {
    return this.writes.find((w) => w.text.includes(text))?.at
  }
}

export type Step = {at: number} & ({print: string} | {resize: string})

/** A closed recording file `<dir>/<name>`: session.start (80:25) at 0, then the steps at their times, then session.end. */
export async function recordFile(dir: string, steps: Step[], name = 's.tsrec'): Promise<string> {
  const clock = new FakeClock(T0)
  const file = join(dir, name)
  const writer = await RecordingWriter.create(file, {clock, fields: {sid: 's', server_hostname: 'node-1'}})
  writer.start({user: 'alice', size: '80:25'})
  for (const step of steps) {
    clock.set(T0 + step.at)
    if ('print' in step) writer.print(Buffer.from(step.print))
    else writer.resize(step.resize)
  }
  await writer.end({interactive: true})
  return file
}
