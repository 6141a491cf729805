// The RecordingStore auth runs: one file per recording under <data_dir>/log/records/.
//
//   <sid>.part   while uploading: exactly the bytes appended so far
//   <sid>.rec    once complete: the same file, renamed (a rename is atomic, so a recording is
//                either still a .part or wholly a .rec)
//
// Files are 0600, the directory 0700 (recordings hold everything typed and printed). An append
// writes each chunk as it arrives (memory stays constant whatever the length) and fdatasyncs
// before it resolves, so the size it reports survives a crash; when the body fails half-way the
// file is truncated back to the size it had, or removed if the append created it. complete
// fdatasyncs the file and the directory around the rename. One process writes a directory: the
// writer claims below serialize uploads inside it, not across processes.
import {constants as fsConstants} from 'node:fs'
import {mkdir, open, rename, stat, unlink, type FileHandle} from 'node:fs/promises'
import path from 'node:path'
import type {Readable} from 'node:stream'
import {fileError, fileProblem} from '../../lib/file-errors.js'
import {NotFoundError} from '../../lib/errors.js'
import {asBytes, checkAppend, checkComplete, checkDigest, checkOpen, checkSessionId, sha256Of, WriterClaims, type CompleteRequest, type RecordingStat, type RecordingStore} from './recording-store.js'

const DIR_MODE = 0o700
const FILE_MODE = 0o600
const PART = '.part'
const COMPLETE = '.rec'

/** Where auth keeps recordings in its data dir. */
export function recordingsDir(dataDir: string): string {
  return path.join(dataDir, 'log', 'records')
}

export class FileRecordingStore implements RecordingStore {
  private readonly writers = new WriterClaims()

  /** `dir` is the records directory itself (recordingsDir(dataDir) for auth); made on first write. */
  constructor(readonly dir: string) {}

  async uploadedBytes(sid: string): Promise<number> {
    checkSessionId(sid)
    return (await this.find(sid))?.size ?? 0
  }

  async append(sid: string, offset: number, body: AsyncIterable<Uint8Array | string>): Promise<number> {
    checkSessionId(sid)
    return this.writers.exclusive(sid, async () => {
      const found = await this.find(sid)
      checkAppend(sid, found ?? {size: 0, complete: false}, offset)
      await mkdir(this.dir, {recursive: true, mode: DIR_MODE})
      const file = this.file(sid, PART)
      const handle = await this.openFile(file, 'a')
      try {
        let size = offset
        try {
          for await (const chunk of body) {
            // Awaited one by one: the body is pulled only as fast as the disk takes it.
            const bytes = asBytes(chunk)
            for (let done = 0; done < bytes.length;) done += (await handle.write(bytes, done, bytes.length - done)).bytesWritten
            size += bytes.length
          }
          await handle.datasync()
        } catch (err) {
          // A failed undo leaves bytes the uploader really sent, and the size still counts them: harmless.
          await undoAppend(handle, file, offset, found !== undefined).catch(() => {})
          throw err
        }
        return size
      } finally {
        await handle.close()
      }
    })
  }

  async complete(sid: string, request: CompleteRequest): Promise<RecordingStat> {
    checkSessionId(sid)
    return this.writers.exclusive(sid, async () => {
      const found = checkComplete(sid, await this.find(sid), request)
      const file = this.file(sid, found.complete ? COMPLETE : PART)
      if (request.sha256 !== undefined) {
        const handle = await this.openFile(file, 'r')
        checkDigest(sid, request.sha256, await sha256Of(handle.createReadStream({autoClose: true})))
      }
      if (found.complete) return found
      const handle = await this.openFile(file, 'r+')
      try {
        await handle.datasync()
      } finally {
        await handle.close()
      }
      await rename(file, this.file(sid, COMPLETE))
      await syncDir(this.dir)
      return {...found, complete: true}
    })
  }

  async open(sid: string, options: {from?: number} = {}): Promise<Readable> {
    checkSessionId(sid)
    const from = checkOpen(sid, await this.find(sid), options.from)
    const handle = await this.openFile(this.file(sid, COMPLETE), 'r')
    return handle.createReadStream({start: from, autoClose: true})
  }

  async stat(sid: string): Promise<RecordingStat> {
    checkSessionId(sid)
    const found = await this.find(sid)
    if (!found) throw new NotFoundError(`recording ${sid} not found`)
    return found
  }

  /** The recording as it is on disk, complete first; undefined when neither file exists. */
  private async find(sid: string): Promise<RecordingStat | undefined> {
    for (const [suffix, complete] of [[COMPLETE, true], [PART, false]] as const) {
      const file = this.file(sid, suffix)
      try {
        return {sid, size: (await stat(file)).size, complete}
      } catch (err) {
        if (fileProblem(err) !== 'missing') throw fileError(err, file, {noun: 'recording'})
      }
    }
    return undefined
  }

  private file(sid: string, suffix: string): string {
    return path.join(this.dir, sid + suffix)
  }

  private async openFile(file: string, flags: string): Promise<FileHandle> {
    try {
      return await open(file, flags === 'a' ? fsConstants.O_WRONLY | fsConstants.O_APPEND | fsConstants.O_CREAT | fsConstants.O_NOFOLLOW : flags, FILE_MODE)
    } catch (err) {
      throw fileError(err, file, {noun: 'recording', action: flags === 'r' ? 'read' : 'write'})
    }
  }
}

/** Puts a recording back as it was before a failed append: its old size, or gone if it was new. */
async function undoAppend(handle: FileHandle, file: string, oldSize: number, existed: boolean): Promise<void> {
  if (existed) await handle.truncate(oldSize)
  else await unlink(file)
}

async function syncDir(dir: string): Promise<void> {
  try {
    const handle = await open(dir, 'r')
    try {
      await handle.datasync()
    } finally {
      await handle.close()
    }
  } catch {
    // fsync of a directory is not possible everywhere; the rename is still atomic
  }
}
