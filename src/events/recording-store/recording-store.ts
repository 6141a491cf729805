// The RecordingStore seam: where auth keeps session recordings the nodes upload. A recording is an
// opaque byte stream here (its format is the recorder's business). The upload protocol is built
// for an uploader that may fail at any point and must resume without resending what auth has:
//
//   uploadedBytes(sid) → n            how much auth has (0 for a recording it has never seen)
//   append(sid, n, body) → n + k      refused with CompareFailedError unless n is the current size;
//                                     the uploader then asks again. A failed append leaves the
//                                     recording as it was before it.
//   complete(sid, {size, sha256?})    marks it whole: no more appends, reads allowed. Idempotent
//                                     with the same size, so a lost reply is harmless to repeat.
//   open(sid, {from?}) → Readable     streams a complete recording, in constant memory.
//
// One writer per recording: an append or complete while another is in flight for the same sid is
// refused with CompareFailedError (the second uploader asks again), never interleaved.
import {createHash} from 'node:crypto'
import type {Readable} from 'node:stream'
import {AlreadyExistsError, BadParameterError, CompareFailedError, NotFoundError} from '../../lib/errors.js'

export interface RecordingStat {
  sid: string
  /** Bytes stored so far (all of them once complete). */
  size: number
  /** Uploaded whole: readable, no longer appendable. */
  complete: boolean
}

export interface CompleteRequest {
  /** The size the uploader sent; must equal what the store has. */
  size: number
  /** Hex SHA-256 of the whole recording; when given, the stored bytes are checked against it. */
  sha256?: string
}

export interface RecordingStore {
  /** Bytes auth already has for `sid`: where an upload resumes. 0 when unknown. */
  uploadedBytes(sid: string): Promise<number>
  /** Appends `body` at `offset`, which must be the current size; resolves to the new size. */
  append(sid: string, offset: number, body: AsyncIterable<Uint8Array | string>): Promise<number>
  /** Marks the recording whole (see the protocol above). */
  complete(sid: string, request: CompleteRequest): Promise<RecordingStat>
  /** A complete recording's bytes from `from` (default 0); NotFoundError if unknown or incomplete. */
  open(sid: string, options?: {from?: number}): Promise<Readable>
  /** NotFoundError when the store has never seen `sid`. */
  stat(sid: string): Promise<RecordingStat>
}

// Session ids are the lowercase UUIDs the node makes (randomUUID); checking the shape is what
// keeps a file store's paths inside its directory, so every store checks it the same way.
const SESSION_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/

export function checkSessionId(sid: string): void {
  if (typeof sid !== 'string' || !SESSION_ID.test(sid)) {
    throw new BadParameterError(`session id ${JSON.stringify(String(sid).slice(0, 64))} is not a lowercase UUID`)
  }
}

/** The sids with an append or complete in flight; a second writer is refused, not queued. */
export class WriterClaims {
  private readonly held = new Set<string>()

  /** Claims `sid` synchronously (so two calls in the same tick cannot both win); returns the release. */
  claim(sid: string): () => void {
    if (this.held.has(sid)) throw new CompareFailedError(`recording ${sid} is being written by another upload; ask for its size again`)
    this.held.add(sid)
    return () => this.held.delete(sid)
  }

  /** Runs `work` holding `sid` (claimed before anything asynchronous happens), then releases it. */
  async exclusive<T>(sid: string, work: () => Promise<T>): Promise<T> {
    const release = this.claim(sid)
    try {
      return await work()
    } finally {
      release()
    }
  }
}

/** Refuses an append to a complete recording or at an offset other than its current size. */
export function checkAppend(sid: string, current: {size: number; complete: boolean}, offset: number): void {
  if (!Number.isSafeInteger(offset) || offset < 0) throw new BadParameterError(`append offset ${offset} is not a byte count`)
  if (current.complete) throw new AlreadyExistsError(`recording ${sid} is already complete`)
  if (offset !== current.size) throw new CompareFailedError(`recording ${sid} has ${current.size} bytes, not ${offset}; resume from ${current.size}`)
}

/** Refuses a complete whose size is not what the store holds, or whose sha256 is malformed. */
export function checkComplete(sid: string, stored: RecordingStat | undefined, request: CompleteRequest): RecordingStat {
  if (!Number.isSafeInteger(request.size) || request.size < 0) throw new BadParameterError(`recording size ${request.size} is not a byte count`)
  if (request.sha256 !== undefined && !/^[0-9a-f]{64}$/.test(request.sha256)) throw new BadParameterError('sha256 must be 64 lowercase hex digits')
  if (!stored) throw new NotFoundError(`recording ${sid} not found: nothing was uploaded`)
  if (stored.size !== request.size) throw new CompareFailedError(`recording ${sid} has ${stored.size} bytes, not ${request.size}`)
  return stored
}

/** Refuses a digest that does not match the stored bytes (the upload was damaged in transit). */
export function checkDigest(sid: string, expected: string | undefined, actual: string): void {
  if (expected !== undefined && expected !== actual) throw new BadParameterError(`recording ${sid} has sha256 ${actual}, the uploader sent ${expected}`)
}

/** Where a read starts; NotFoundError for a recording not (yet) complete. */
export function checkOpen(sid: string, stored: RecordingStat | undefined, from = 0): number {
  if (!stored) throw new NotFoundError(`recording ${sid} not found`)
  if (!stored.complete) throw new NotFoundError(`recording ${sid} is still being uploaded`)
  if (!Number.isSafeInteger(from) || from < 0 || from > stored.size) throw new BadParameterError(`cannot read recording ${sid} from byte ${from}: it has ${stored.size}`)
  return from
}

/** A body chunk as bytes (a Readable with an encoding set yields strings). */
export function asBytes(chunk: Uint8Array | string): Buffer {
  return typeof chunk === 'string' ? Buffer.from(chunk) : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength)
}

/** Hex SHA-256 of a byte stream, read in constant memory. */
export async function sha256Of(bytes: AsyncIterable<Uint8Array> | Iterable<Uint8Array>): Promise<string> {
  const hash = createHash('sha256')
  for await (const chunk of bytes) hash.update(chunk)
  return hash.digest('hex')
}
