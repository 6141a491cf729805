import {mkdirSync, statSync} from 'node:fs'
import module, {createRequire} from 'node:module'
import os from 'node:os'
import path from 'node:path'

// Start-up speed: V8's compiled code for the CommonJS modules we load (oclif and friends) is
// cached between runs, which saves a fifth of `tsh status`. Node 22 has this built in; on
// Node 20 the v8-compile-cache package does it. The cache holds code that will run, so it lives
// in a private directory of the user's own (never a shared /tmp one) and is skipped when that
// directory is not ours alone.

export function privateCacheDir(): string | undefined {
  const base = process.env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache')
  const dir = path.join(base, 'teleport-ts', `v8-${process.versions.v8}`)
  try {
    mkdirSync(dir, {recursive: true, mode: 0o700})
    const stat = statSync(dir)
    if (stat.uid !== process.getuid?.() || (stat.mode & 0o077) !== 0) return undefined
    return dir
  } catch {
    return undefined
  }
}

export function enableCompileCache(packageRoot: string): void {
  if (process.env.TELEPORT_NO_COMPILE_CACHE) return
  const builtIn = (module as unknown as {enableCompileCache?: (dir: string) => unknown}).enableCompileCache
  const dir = privateCacheDir()
  if (!dir) return
  if (builtIn) {
    builtIn(dir)
    return
  }
  process.env.V8_COMPILE_CACHE_CACHE_DIR = dir
  // The package names its cache after the main module, or the working directory when there is
  // none (an ES module entry): name it after the package instead, one cache wherever tsh runs.
  const cwd = process.cwd()
  try {
    process.chdir(packageRoot)
    createRequire(import.meta.url)('v8-compile-cache')
  } catch {
    // no cache: only slower
  } finally {
    process.chdir(cwd)
  }
}
