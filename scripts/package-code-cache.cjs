'use strict'
// The CommonJS files of the packages we keep outside the bundle (ssh2, undici, sshpk...),
// compiled from V8 code caches as load.cjs compiles the bundle's own parts: compiling them is most
// of what `tsh ssh` or `tsh ls` spend before their first byte on the wire. All of them share one
// file, dist/bundle/packages.cache: a first line of JSON ([file, content hash, length] for each
// entry, in order), then the entries' cache data back to back. A file's entry counts only when its
// content hash matches (V8 itself checks the length alone). A run that compiled a file with no
// entry, or with one V8 rejected, writes the file again at exit, keeping the other entries (so
// commands that load different packages add to it), to a temporary file then renamed; where that
// cannot be written (a read-only install), the files are simply compiled as Node would.
const {hash} = require('node:crypto')
const fs = require('node:fs')
const Module = require('node:module')
const path = require('node:path')
const vm = require('node:vm')

const NODE_MODULES = `${path.sep}node_modules${path.sep}`

/** @returns {Map<string, {hash: string, data: Buffer}>} */
function readEntries(cacheFile) {
  const entries = new Map()
  let data
  try {
    data = fs.readFileSync(cacheFile)
  } catch {
    return entries
  }
  try {
    const newline = data.indexOf(10)
    let offset = newline + 1
    for (const [file, contentHash, length] of JSON.parse(data.toString('utf8', 0, newline))) {
      entries.set(file, {hash: contentHash, data: data.subarray(offset, offset + length)})
      offset += length
    }
  } catch {
    entries.clear() // a damaged file: start again
  }
  return entries
}

function writeEntries(cacheFile, entries) {
  const index = []
  const blobs = []
  for (const [file, entry] of entries) {
    index.push([file, entry.hash, entry.data.length])
    blobs.push(entry.data)
  }
  const temp = `${cacheFile}.${process.pid}.tmp`
  try {
    fs.writeFileSync(temp, Buffer.concat([Buffer.from(`${JSON.stringify(index)}\n`), ...blobs]), {mode: 0o644})
    fs.renameSync(temp, cacheFile)
  } catch {
    try {
      fs.rmSync(temp, {force: true})
    } catch {
      // a read-only directory: nothing was written
    }
  }
}

/** The require a CommonJS module gets, as Node makes it. */
function requireFor(mod) {
  const require = (id) => mod.require(id)
  require.resolve = (request, options) => Module._resolveFilename(request, mod, false, options)
  require.resolve.paths = (request) => Module._resolveLookupPaths(request, mod)
  require.main = process.mainModule
  require.extensions = Module._extensions
  require.cache = Module._cache
  return require
}

/** Compiles packages' CommonJS files from `cacheFile` from now on. */
function install(cacheFile) {
  let entries
  /** Files compiled this run without a usable entry: their scripts make the new entries at exit. */
  const fresh = []
  const compile = Module.prototype._compile
  Module.prototype._compile = function (content, filename) {
    // A file with a #! line or outside the packages: as Node would.
    if (!filename.includes(NODE_MODULES) || content.startsWith('#!')) return compile.call(this, content, filename)
    entries ??= readEntries(cacheFile)
    const key = filename
    const contentHash = hash('sha1', content)
    const entry = entries.get(key)
    const cachedData = entry?.hash === contentHash ? entry.data : undefined
    const script = new vm.Script(Module.wrap(content), {filename, cachedData})
    if (!cachedData || script.cachedDataRejected) {
      if (fresh.length === 0) process.once('exit', () => writeFresh(cacheFile, fresh))
      fresh.push({key, hash: contentHash, script})
    }
    const wrapper = script.runInThisContext({displayErrors: true})
    return wrapper.call(this.exports, this.exports, requireFor(this), this, filename, path.dirname(filename))
  }
}

function writeFresh(cacheFile, fresh) {
  // Another command may have added entries meanwhile: keep them.
  const entries = readEntries(cacheFile)
  for (const {key, hash: contentHash, script} of fresh) entries.set(key, {hash: contentHash, data: script.createCachedData()})
  writeEntries(cacheFile, entries)
}

module.exports = {install}
