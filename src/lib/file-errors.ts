import {readFileSync} from 'node:fs'
import path from 'node:path'
import {BadParameterError, NotFoundError, UserError} from './errors.js'

// Failed reads, writes and mkdirs as one line for the user. A named file ("config file",
// "identity file") is worded "<noun> <path> does not exist" / "no permission to read the
// <noun> <path>"; a bare path as the OS would ("<path>: no such file", "cannot read <path>:
// permission denied").

export type FileProblem = 'missing' | 'denied' | 'directory'

export interface FileErrorOptions {
  /** What the file is, e.g. "config file"; absent for a path the user named only as a path. */
  noun?: string
  /** What was being done; "read" by default. */
  action?: 'read' | 'write' | 'create'
  /** A second line for a problem, e.g. {denied: 'run as root'}. */
  hints?: Partial<Record<FileProblem, string>>
}

/** ENOENT/ENOTDIR, EACCES/EPERM and EISDIR; undefined for anything else. */
export function fileProblem(err: unknown): FileProblem | undefined {
  const code = (err as NodeJS.ErrnoException | undefined)?.code
  if (code === 'ENOENT' || code === 'ENOTDIR') return 'missing'
  if (code === 'EACCES' || code === 'EPERM') return 'denied'
  if (code === 'EISDIR') return 'directory'
  return undefined
}

/** The error to throw for `err`, which came from doing `action` to `file`. */
export function fileError(err: unknown, file: string, options: FileErrorOptions = {}): UserError {
  const {noun, action = 'read'} = options
  const problem = fileProblem(err)
  const hint = problem && options.hints?.[problem]
  const opts = {cause: err, ...(hint ? {hint} : {})}
  const named = noun ? `${noun} ${file}` : file
  switch (problem) {
    case 'missing':
      if (action !== 'read') return new NotFoundError(`cannot ${action} ${named}: the directory ${path.dirname(file)} does not exist`, opts)
      return new NotFoundError(noun ? `${named} does not exist` : `${file}: no such file`, opts)
    case 'denied':
      return new UserError(noun ? `no permission to ${action} the ${named}` : `cannot ${action} ${file}: permission denied`, opts)
    case 'directory':
      return new BadParameterError(noun ? `${named} is a directory` : `${file} is a directory, not a file`, opts)
    default: {
      const code = (err as NodeJS.ErrnoException | undefined)?.code
      return new UserError(`cannot ${action} ${noun ? `the ${named}` : file}: ${code ?? (err as Error).message}`, opts)
    }
  }
}

/** A text file's contents; a failed read throws fileError. */
export function readTextFile(file: string, options: Omit<FileErrorOptions, 'action'> = {}): string {
  try {
    return readFileSync(file, 'utf8')
  } catch (err) {
    throw fileError(err, file, options)
  }
}
