import type {Writable} from 'node:stream'
import {RecordingDamagedError, toAsciicast} from '../../events/recording/index.js'
import {writeFileFromChunks} from './file-output.js'
import type {RecordingSource} from './source.js'
import {writeOut} from './write-out.js'

// `tsh recordings export --format asciicast`: asciicast v2 (asciinema plays and cats it), one
// line at a time as the recording is read. A damaged recording exports up to the damage (the
// file is kept: it is a valid cast of what was readable), then the damage is reported.

export interface ExportOptions {
  /** Write here (0600, temp file then rename) instead of to `stdout`. */
  output?: string
  force?: boolean
  stdout: Writable
}

export async function exportAsciicast(source: RecordingSource, options: ExportOptions): Promise<void> {
  const lines = toAsciicast((await source.from(0)).events)
  if (options.output) {
    await writeFileFromChunks(options.output, lines, {force: options.force ?? false, keepPartial: (err) => err instanceof RecordingDamagedError})
    return
  }
  for await (const line of lines) await writeOut(options.stdout, line)
}
