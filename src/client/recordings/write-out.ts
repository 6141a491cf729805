import {once} from 'node:events'
import type {Writable} from 'node:stream'

// Writing to stdout (or any stream) at the reader's pace: waits for 'drain' when the stream's
// buffer is full, so a slow terminal or pipe never makes output pile up in memory.

export async function writeOut(out: Writable, chunk: string | Uint8Array): Promise<void> {
  if (!out.write(chunk)) await once(out, 'drain')
}
