import assert from 'node:assert/strict'
import {chmodSync, mkdirSync, mkdtempSync, rmSync, statSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {after, test} from 'node:test'
import {privateCacheDir} from '../../../../src/lib/cli/compile-cache.js'

// The compile cache holds code that will run: only ever in a directory private to this user.

const base = mkdtempSync(path.join(tmpdir(), 'cache-'))
const saved = process.env.XDG_CACHE_HOME
after(() => {
  if (saved === undefined) delete process.env.XDG_CACHE_HOME
  else process.env.XDG_CACHE_HOME = saved
  rmSync(base, {recursive: true, force: true})
})

test('made 0700 under XDG_CACHE_HOME', () => {
  process.env.XDG_CACHE_HOME = path.join(base, 'fresh')
  const dir = privateCacheDir()!
  assert.ok(dir.startsWith(path.join(base, 'fresh', 'teleport-ts')))
  assert.equal(statSync(dir).mode & 0o777, 0o700)
})

test('a directory others may write to is not used', () => {
  process.env.XDG_CACHE_HOME = path.join(base, 'open')
  const dir = path.join(base, 'open', 'teleport-ts', `v8-${process.versions.v8}`)
  mkdirSync(dir, {recursive: true})
  chmodSync(dir, 0o777)
  assert.equal(privateCacheDir(), undefined)
})
