import {mkdtempSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {workerData} from 'node:worker_threads'

// A directory for targets that read real files: the runner makes it and removes it on close.

let dir: string | undefined

export function scratchDir(): string {
  dir ??= (workerData as {scratch?: string} | null)?.scratch ?? mkdtempSync(path.join(tmpdir(), 'fuzz-'))
  return dir
}
