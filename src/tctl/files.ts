import {closeSync, existsSync, fsyncSync, openSync, renameSync, rmSync, writeSync} from 'node:fs'
import path from 'node:path'
import {UserError} from '../lib/errors.js'
import {fileError} from '../lib/file-errors.js'

// Writing a set of files (a key, its public half, its certificate) as one: all are written to
// temporary files first and renamed only when every one of them was written, so a failure
// never leaves a key without its certificate or half a file.

export interface OutputFile {
  path: string
  data: string
  mode: number
}

/** Refuses paths that exist (unless overwriting): checked before any work, and again at write time. */
export function assertFree(paths: string[], overwrite = false): void {
  if (overwrite) return
  const taken = paths.filter((p) => existsSync(p))
  if (taken.length > 0) {
    throw new UserError(`${taken.join(', ')} already exist${taken.length === 1 ? 's' : ''}`, {hint: 'use --overwrite to replace, or choose another --out'})
  }
}

export function writeFilesTogether(files: OutputFile[], options: {overwrite?: boolean} = {}): void {
  assertFree(files.map((f) => f.path), options.overwrite)
  const temps: string[] = []
  try {
    for (const file of files) {
      const temp = path.join(path.dirname(file.path), `.${path.basename(file.path)}.${process.pid}.${Date.now()}.tmp`)
      let fd: number
      try {
        fd = openSync(temp, 'wx', file.mode)
      } catch (err) {
        throw fileError(err, file.path, {action: 'write'})
      }
      temps.push(temp)
      try {
        writeSync(fd, file.data)
        fsyncSync(fd)
      } catch (err) {
        throw fileError(err, file.path, {action: 'write'})
      } finally {
        closeSync(fd)
      }
    }
    files.forEach((file, i) => renameSync(temps[i]!, file.path))
    temps.length = 0
  } finally {
    for (const temp of temps) rmSync(temp, {force: true})
  }
}
