import {closeSync, fsyncSync, mkdirSync, openSync, renameSync, rmSync, writeSync} from 'node:fs'
import path from 'node:path'

// Write-temp-then-rename: a reader sees the old file or the new one, never half of either.
// Files are created 0600 and their directory 0700 unless asked otherwise.

export function writeFileAtomic(file: string, data: string | Buffer, mode = 0o600): void {
  const dir = path.dirname(file)
  mkdirSync(dir, {recursive: true, mode: 0o700})
  const temp = path.join(dir, `.${path.basename(file)}.${process.pid}.${Date.now()}.tmp`)
  const fd = openSync(temp, 'wx', mode)
  try {
    writeSync(fd, typeof data === 'string' ? Buffer.from(data) : data)
    fsyncSync(fd)
  } catch (err) {
    closeSync(fd)
    rmSync(temp, {force: true})
    throw err
  }
  closeSync(fd)
  try {
    renameSync(temp, file)
  } catch (err) {
    rmSync(temp, {force: true})
    throw err
  }
  try {
    const dirFd = openSync(dir, 'r')
    fsyncSync(dirFd)
    closeSync(dirFd)
  } catch {
    // fsync of a directory is not possible everywhere; the rename is still atomic
  }
}
