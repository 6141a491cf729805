import {chmodSync, mkdirSync, statSync} from 'node:fs'
import {UserError} from '../../lib/errors.js'
import {fileError, fileProblem} from '../../lib/file-errors.js'

/** Creates the data dir 0700 (or tightens an existing one we own), with a clear error when we can't. */
export function prepareDataDir(dataDir: string): void {
  try {
    mkdirSync(dataDir, {recursive: true, mode: 0o700})
    const stat = statSync(dataDir)
    if (!stat.isDirectory()) throw new UserError(`data dir ${dataDir} is not a directory`)
    if ((stat.mode & 0o077) !== 0 && stat.uid === process.getuid?.()) chmodSync(dataDir, 0o700)
  } catch (err) {
    if (fileProblem(err) === 'denied') throw fileError(err, dataDir, {noun: 'data dir', action: 'create', hints: {denied: 'run as root, or choose another with --data-dir'}})
    throw err
  }
}
