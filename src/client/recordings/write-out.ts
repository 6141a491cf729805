import {once} from 'node:events'
import type {Writable} from 'node:stream'

// Writing to stdout (or any stream) at the reader's pace: waits for 'drain' when the stream's
// buffer is full, so a slow terminal or pipe never makes output pile up in memory.

export async function writeOut(out: Writable, chunk: string | Uint8Array): Promise<void> {
  if (!out.write(chunk)) await once(out, 'drain')
}

/**
 * When the reader of `out` goes away (`tsh play -f text ... | head`), end quietly as a Unix tool
 * does, instead of reporting EPIPE as a failure. Node puts the terminal's mode back on exit.
 */
export function exitWhenReaderLeaves(out: NodeJS.WriteStream, exit: () => void = () => process.exit(0)): void {
  out.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code !== 'EPIPE') throw err
    exit()
  })
}
