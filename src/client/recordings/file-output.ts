import {randomBytes} from 'node:crypto'
import {existsSync} from 'node:fs'
import {link, open, rename, rm, type FileHandle} from 'node:fs/promises'
import path from 'node:path'
import {AlreadyExistsError} from '../../lib/errors.js'
import {fileError} from '../../lib/file-errors.js'

// A download or export written as it arrives: into a temp file (0600) beside the target, then
// moved into place, so the target is never half-written. An existing target is left alone
// unless `force` (a recording someone kept is not silently replaced).

export interface FileOutputOptions {
  force?: boolean
  /** Keep what was written when the source fails with this error (an export up to the damage). */
  keepPartial?: (err: unknown) => boolean
}

function alreadyExists(file: string): AlreadyExistsError {
  return new AlreadyExistsError(`${file} already exists`, {hint: 'choose another file with -o, or pass --force to replace it'})
}

/** Writes `chunks` to `file`; resolves to the bytes written. */
export async function writeFileFromChunks(file: string, chunks: AsyncIterable<string | Uint8Array>, options: FileOutputOptions = {}): Promise<number> {
  if (!options.force && existsSync(file)) throw alreadyExists(file)
  const temp = path.join(path.dirname(file), `.${path.basename(file)}.${randomBytes(6).toString('hex')}.tmp`)
  let handle: FileHandle
  try {
    handle = await open(temp, 'wx', 0o600)
  } catch (err) {
    throw fileError(err, file, {action: 'create'})
  }
  let bytes = 0
  let failure: unknown
  try {
    for await (const chunk of chunks) {
      const {bytesWritten} = await handle.write(typeof chunk === 'string' ? Buffer.from(chunk) : chunk)
      bytes += bytesWritten
    }
  } catch (err) {
    failure = err
  }
  try {
    if (failure !== undefined && !options.keepPartial?.(failure)) throw failure
    await handle.datasync()
    await handle.close()
    await moveIntoPlace(temp, file, options.force === true)
  } catch (err) {
    await handle.close().catch(() => {})
    await rm(temp, {force: true})
    throw err
  }
  if (failure !== undefined) throw failure
  return bytes
}

async function moveIntoPlace(temp: string, file: string, force: boolean): Promise<void> {
  if (force) return rename(temp, file)
  // link refuses an existing target, so a file made meanwhile is not replaced either.
  try {
    await link(temp, file)
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') throw alreadyExists(file)
    throw fileError(err, file, {action: 'write'})
  }
  await rm(temp, {force: true})
}
