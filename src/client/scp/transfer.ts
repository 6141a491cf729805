import {promises as fsp, type Stats} from 'node:fs'
import path from 'node:path'
import type ssh2 from 'ssh2'
import {UserError} from '../../lib/errors.js'

// scp's copy semantics over SFTP (ssh2's client `sftp()`), byte for byte:
//   - one source into an existing directory lands inside it (dir/basename); otherwise it becomes
//     the destination; several sources need an existing directory;
//   - a directory needs -r; with -r it is copied inside an existing destination directory, or
//     becomes the destination when that does not exist;
//   - new files get the source's permission bits (less the receiving side's umask); -p also keeps
//     the modification and access times and sets the exact mode;
//   - an error names the path and the copy goes on with the next source, as scp does.

type SFTP = ssh2.SFTPWrapper
type Attrs = ssh2.Stats

export interface Progress {
  update(transferred: number): void
  done(): void
  /** The file failed: the display ends here, before the error is printed. */
  abandon(): void
}

export interface TransferOptions {
  recursive: boolean
  preserve: boolean
  /** A progress display per file, or undefined for none. */
  progress?: (name: string, size: number) => Progress
  /** How to show a remote path in messages ("node-1:/etc/hosts"). */
  remoteName: (remotePath: string) => string
}

const SFTP_NO_SUCH_FILE = 2
const SFTP_PERMISSION_DENIED = 3

/** One line naming the path; the cause in scp's words. */
export class TransferError extends Error {
  constructor(
    readonly where: string,
    reason: string,
  ) {
    super(`${where}: ${reason}`)
    this.name = 'TransferError'
  }
}

function sftpReason(err: unknown): string {
  const e = err as {code?: number | string; message?: string}
  if (e.code === SFTP_NO_SUCH_FILE || e.code === 'ENOENT') return 'No such file or directory'
  if (e.code === SFTP_PERMISSION_DENIED || e.code === 'EACCES' || e.code === 'EPERM') return 'Permission denied'
  if (e.code === 'EISDIR') return 'Is a directory'
  if (e.code === 'ENOTDIR') return 'Not a directory'
  if (e.code === 'ENOSPC') return 'No space left on device'
  return e.message ?? String(err)
}

/** `host:` and `~` mean the home directory, where SFTP paths start; `~/x` is `x` there. */
export function normalizeRemotePath(p: string): string {
  if (p === '' || p === '~' || p === '~/') return '.'
  if (p.startsWith('~/')) return p.slice(2)
  return p
}

// ---- promisified SFTP ----------------------------------------------------------------------

function call<T>(fn: (cb: (err: Error | null | undefined, value: T) => void) => void): Promise<T> {
  return new Promise((resolve, reject) => fn((err, value) => (err ? reject(err) : resolve(value))))
}

const remote = {
  stat: (sftp: SFTP, p: string) => call<Attrs>((cb) => sftp.stat(p, cb)),
  mkdir: (sftp: SFTP, p: string, mode: number) => call<void>((cb) => sftp.mkdir(p, {mode}, (err) => cb(err, undefined))),
  readdir: (sftp: SFTP, p: string) => call<ssh2.FileEntryWithStats[]>((cb) => sftp.readdir(p, cb as never)),
  utimes: (sftp: SFTP, p: string, atime: number, mtime: number) => call<void>((cb) => sftp.utimes(p, atime, mtime, (err) => cb(err, undefined))),
  chmod: (sftp: SFTP, p: string, mode: number) => call<void>((cb) => sftp.chmod(p, mode, (err) => cb(err, undefined))),
  put: (sftp: SFTP, local: string, p: string, opts: ssh2.TransferOptions) => call<void>((cb) => sftp.fastPut(local, p, opts, (err) => cb(err, undefined))),
  get: (sftp: SFTP, p: string, local: string, opts: ssh2.TransferOptions) => call<void>((cb) => sftp.fastGet(p, local, opts, (err) => cb(err, undefined))),
}

async function remoteStat(sftp: SFTP, p: string): Promise<Attrs | undefined> {
  try {
    return await remote.stat(sftp, p)
  } catch (err) {
    if ((err as {code?: number}).code === SFTP_NO_SUCH_FILE) return undefined
    throw err
  }
}

async function localStat(p: string): Promise<Stats | undefined> {
  try {
    return await fsp.stat(p)
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined
    throw err
  }
}

function step(progress: Progress | undefined): ssh2.TransferOptions['step'] | undefined {
  return progress ? (transferred: number) => progress.update(transferred) : undefined
}

// ---- upload --------------------------------------------------------------------------------

/** Copies local sources to the node; returns the errors (each one line), empty on success. */
export async function upload(sftp: SFTP, sources: string[], target: string, options: TransferOptions): Promise<string[]> {
  const errors: string[] = []
  const dst = normalizeRemotePath(target)
  let targetAttrs: Attrs | undefined
  try {
    targetAttrs = await remoteStat(sftp, dst)
  } catch (err) {
    return [new TransferError(options.remoteName(target), sftpReason(err)).message]
  }
  const intoDir = targetAttrs?.isDirectory() === true
  if (sources.length > 1 && !intoDir) {
    return [new TransferError(options.remoteName(target), targetAttrs ? 'Not a directory' : 'No such file or directory').message]
  }
  for (const src of sources) {
    try {
      const st = await fsp.stat(src).catch((err) => {
        throw new TransferError(src, sftpReason(err))
      })
      const dest = intoDir ? path.posix.join(dst, path.basename(src)) : dst
      if (st.isDirectory()) {
        if (!options.recursive) throw new TransferError(src, 'not a regular file (use -r to copy directories)')
        await uploadDir(sftp, src, dest, st, options, errors)
      } else if (st.isFile()) await uploadFile(sftp, src, dest, st, options)
      else throw new TransferError(src, 'not a regular file')
    } catch (err) {
      errors.push(err instanceof TransferError ? err.message : `${src}: ${sftpReason(err)}`)
    }
  }
  return errors
}

async function uploadFile(sftp: SFTP, src: string, dest: string, st: Stats, options: TransferOptions): Promise<void> {
  const progress = options.progress?.(path.basename(src), st.size)
  const s = step(progress)
  try {
    await remote.put(sftp, src, dest, {mode: st.mode & 0o777, ...(s ? {step: s} : {})})
  } catch (err) {
    progress?.abandon()
    throw new TransferError(options.remoteName(dest), sftpReason(err))
  }
  progress?.done()
  if (options.preserve) await preserveRemote(sftp, dest, st, options)
}

async function preserveRemote(sftp: SFTP, dest: string, st: Stats, options: TransferOptions): Promise<void> {
  try {
    await remote.chmod(sftp, dest, st.mode & 0o7777)
    await remote.utimes(sftp, dest, Math.floor(st.atimeMs / 1000), Math.floor(st.mtimeMs / 1000))
  } catch (err) {
    throw new TransferError(options.remoteName(dest), `cannot set times and mode: ${sftpReason(err)}`)
  }
}

async function uploadDir(sftp: SFTP, src: string, dest: string, st: Stats, options: TransferOptions, errors: string[]): Promise<void> {
  const existing = await remoteStat(sftp, dest).catch((err) => {
    throw new TransferError(options.remoteName(dest), sftpReason(err))
  })
  if (existing && !existing.isDirectory()) throw new TransferError(options.remoteName(dest), 'Not a directory')
  if (!existing) {
    await remote.mkdir(sftp, dest, (st.mode & 0o777) | 0o700).catch((err) => {
      throw new TransferError(options.remoteName(dest), sftpReason(err))
    })
  }
  const entries = await fsp.readdir(src).catch((err) => {
    throw new TransferError(src, sftpReason(err))
  })
  for (const name of entries.sort()) {
    const child = path.join(src, name)
    const childDest = path.posix.join(dest, name)
    try {
      const cst = await fsp.stat(child) // follows symbolic links, as scp does
      if (cst.isDirectory()) await uploadDir(sftp, child, childDest, cst, options, errors)
      else if (cst.isFile()) await uploadFile(sftp, child, childDest, cst, options)
      else throw new TransferError(child, 'not a regular file')
    } catch (err) {
      errors.push(err instanceof TransferError ? err.message : `${child}: ${sftpReason(err)}`)
    }
  }
  // Times last: writing the contents changed them.
  if (options.preserve) await preserveRemote(sftp, dest, st, options)
}

// ---- download ------------------------------------------------------------------------------

/** Copies remote sources here; returns the errors (each one line), empty on success. */
export async function download(sftp: SFTP, sources: string[], target: string, options: TransferOptions): Promise<string[]> {
  const errors: string[] = []
  let targetStat: Stats | undefined
  try {
    targetStat = await localStat(target)
  } catch (err) {
    return [`${target}: ${sftpReason(err)}`]
  }
  const intoDir = targetStat?.isDirectory() === true
  if (sources.length > 1 && !intoDir) return [`${target}: ${targetStat ? 'Not a directory' : 'No such file or directory'}`]
  for (const source of sources) {
    const src = normalizeRemotePath(source)
    try {
      const attrs = await remote.stat(sftp, src).catch((err) => {
        throw new TransferError(options.remoteName(source), sftpReason(err))
      })
      const dest = intoDir ? path.join(target, path.posix.basename(src)) : target
      if (attrs.isDirectory()) {
        if (!options.recursive) throw new TransferError(options.remoteName(source), 'not a regular file (use -r to copy directories)')
        await downloadDir(sftp, src, dest, attrs, options, errors)
      } else if (attrs.isFile()) await downloadFile(sftp, src, dest, attrs, options)
      else throw new TransferError(options.remoteName(source), 'not a regular file')
    } catch (err) {
      errors.push(err instanceof TransferError ? err.message : `${options.remoteName(source)}: ${sftpReason(err)}`)
    }
  }
  return errors
}

async function downloadFile(sftp: SFTP, src: string, dest: string, attrs: Attrs, options: TransferOptions): Promise<void> {
  const progress = options.progress?.(path.posix.basename(src), attrs.size)
  const s = step(progress)
  try {
    await remote.get(sftp, src, dest, {mode: attrs.mode & 0o777, ...(s ? {step: s} : {})})
  } catch (err) {
    progress?.abandon()
    const e = err as {code?: unknown}
    // fastGet reports local failures with errno codes, remote ones with SFTP status numbers.
    throw typeof e.code === 'string' ? new TransferError(dest, sftpReason(err)) : new TransferError(options.remoteName(src), sftpReason(err))
  }
  progress?.done()
  if (options.preserve) await preserveLocal(dest, attrs)
}

async function preserveLocal(dest: string, attrs: Attrs): Promise<void> {
  try {
    await fsp.chmod(dest, attrs.mode & 0o7777)
    await fsp.utimes(dest, attrs.atime, attrs.mtime)
  } catch (err) {
    throw new TransferError(dest, `cannot set times and mode: ${sftpReason(err)}`)
  }
}

async function downloadDir(sftp: SFTP, src: string, dest: string, attrs: Attrs, options: TransferOptions, errors: string[]): Promise<void> {
  const existing = await localStat(dest)
  if (existing && !existing.isDirectory()) throw new TransferError(dest, 'Not a directory')
  if (!existing) {
    await fsp.mkdir(dest, {mode: (attrs.mode & 0o777) | 0o700}).catch((err) => {
      throw new TransferError(dest, sftpReason(err))
    })
  }
  const entries = await remote.readdir(sftp, src).catch((err) => {
    throw new TransferError(options.remoteName(src), sftpReason(err))
  })
  for (const entry of entries.sort((a, b) => (a.filename < b.filename ? -1 : a.filename > b.filename ? 1 : 0))) {
    if (entry.filename === '.' || entry.filename === '..') continue
    const child = path.posix.join(src, entry.filename)
    try {
      const childDest = localEntryPath(dest, entry.filename, options.remoteName(src))
      // readdir reports links as links: follow them, as scp does.
      const cattrs = entry.attrs.isSymbolicLink() ? await remote.stat(sftp, child) : entry.attrs
      if (cattrs.isDirectory()) await downloadDir(sftp, child, childDest, cattrs, options, errors)
      else if (cattrs.isFile()) await downloadFile(sftp, child, childDest, cattrs, options)
      else throw new TransferError(options.remoteName(child), 'not a regular file')
    } catch (err) {
      errors.push(err instanceof TransferError ? err.message : `${options.remoteName(child)}: ${sftpReason(err)}`)
    }
  }
  if (options.preserve) await preserveLocal(dest, attrs)
}

/**
 * Where a name from the node's directory listing lands here. The node chooses the names: one
 * with a "/" (or a NUL) would write outside the target, so it is refused as OpenSSH's sftp does.
 */
export function localEntryPath(dest: string, name: string, remoteDir: string): string {
  if (name === '' || name === '.' || name === '..' || /[/\0]/.test(name)) {
    throw new TransferError(remoteDir, `server sent a suspicious file name ${JSON.stringify(name)}`)
  }
  return path.join(dest, name)
}

/** Opens the SFTP subsystem on a node connection; with agentForward, the connection's agent is forwarded on its channel. */
export async function openSftp(client: ssh2.Client, options: {agentForward?: boolean} = {}): Promise<SFTP> {
  // ssh2's sftp(env, cb), which its types leave out; patched to take agentForward as exec does.
  const withOptions = client.sftp as unknown as (env: {agentForward: true}, cb: (err: Error | undefined, sftp: SFTP) => void) => void
  try {
    return await call<SFTP>((cb) => (options.agentForward ? withOptions.call(client, {agentForward: true}, cb) : client.sftp(cb)))
  } catch (err) {
    // The node (or a recording proxy) ended the channel with an exit status: its stderr says why.
    if (typeof (err as {code?: unknown}).code === 'number') throw new UserError((err as Error).message)
    throw err
  }
}
