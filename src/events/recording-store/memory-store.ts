// The RecordingStore twin for tests: the same answers as the file store, bytes held in memory.
import {Readable} from 'node:stream'
import {asBytes, checkAppend, checkComplete, checkDigest, checkOpen, checkSessionId, sha256Of, WriterClaims, type CompleteRequest, type RecordingStat, type RecordingStore} from './recording-store.js'
import {NotFoundError} from '../../lib/errors.js'

interface StoredRecording {
  chunks: Buffer[]
  size: number
  complete: boolean
}

export class MemoryRecordingStore implements RecordingStore {
  private readonly recordings = new Map<string, StoredRecording>()
  private readonly writers = new WriterClaims()

  async uploadedBytes(sid: string): Promise<number> {
    checkSessionId(sid)
    return this.recordings.get(sid)?.size ?? 0
  }

  async append(sid: string, offset: number, body: AsyncIterable<Uint8Array | string>): Promise<number> {
    checkSessionId(sid)
    return this.writers.exclusive(sid, async () => {
      const stored = this.recordings.get(sid) ?? {chunks: [], size: 0, complete: false}
      checkAppend(sid, stored, offset)
      // Kept aside until the body ends, so a body that fails half-way changes nothing.
      const added: Buffer[] = []
      let addedSize = 0
      for await (const chunk of body) {
        const bytes = Buffer.from(asBytes(chunk)) // a copy: the producer may reuse its buffer
        added.push(bytes)
        addedSize += bytes.length
      }
      stored.chunks.push(...added)
      stored.size += addedSize
      this.recordings.set(sid, stored)
      return stored.size
    })
  }

  async complete(sid: string, request: CompleteRequest): Promise<RecordingStat> {
    checkSessionId(sid)
    return this.writers.exclusive(sid, async () => {
      const stored = this.recordings.get(sid)
      checkComplete(sid, stored && statOf(sid, stored), request)
      checkDigest(sid, request.sha256, await sha256Of(stored!.chunks))
      stored!.complete = true
      return statOf(sid, stored!)
    })
  }

  async open(sid: string, options: {from?: number} = {}): Promise<Readable> {
    checkSessionId(sid)
    const stored = this.recordings.get(sid)
    const from = checkOpen(sid, stored && statOf(sid, stored), options.from)
    return Readable.from(chunksFrom(stored!.chunks, from), {objectMode: false})
  }

  async stat(sid: string): Promise<RecordingStat> {
    checkSessionId(sid)
    const stored = this.recordings.get(sid)
    if (!stored) throw new NotFoundError(`recording ${sid} not found`)
    return statOf(sid, stored)
  }
}

function statOf(sid: string, stored: StoredRecording): RecordingStat {
  return {sid, size: stored.size, complete: stored.complete}
}

/** The stored chunks from byte `from` on, pulled one at a time as the reader asks. */
function* chunksFrom(chunks: readonly Buffer[], from: number): Generator<Buffer> {
  let skip = from
  for (const chunk of chunks) {
    if (skip >= chunk.length) { skip -= chunk.length; continue }
    yield skip > 0 ? chunk.subarray(skip) : chunk
    skip = 0
  }
}
