'use strict'
// Loads the bundle's parts (dist/bundle: CommonJS files made by scripts/bundle.js, oclif.cjs one of
// them), each compiled from V8's code cache: Node 20 has no compile cache of its own (22's
// module.enableCompileCache), and compiling is most of what a start costs once no module is
// resolved. A part requires or import()s another by "./name"; this serves both, one instance each.
// A part's cache (<part>.cache) names the part it was made from (the hash on the part's last
// line); for the parts a run loaded with none, with one made from another part, or with one V8
// rejected (another Node version), the run writes it at its exit, so that it holds what that run
// compiled and not only the top level, to a temporary file then renamed. Where it cannot be
// written (a read-only install), the parts are simply compiled at each start.
const fs = require('node:fs')
const Module = require('node:module')
const path = require('node:path')
const vm = require('node:vm')

// The packages outside the bundle, compiled from their code caches too.
require('./package-code-cache.cjs').install(path.join(__dirname, 'packages.cache'))

const HASH_LINE = '//# bundle-hash='
const nodeRequire = Module.createRequire(__filename)
/** Each part loaded, by its file name: CommonJS's module object. */
const parts = new Map()
/** Parts whose cache to write at exit. */
const uncached = []

/** The cache's data when its first line names this part. */
function readCache(cacheFile, hash) {
  try {
    const data = fs.readFileSync(cacheFile)
    const newline = data.indexOf(10)
    return newline > 0 && data.toString('latin1', 0, newline) === hash ? data.subarray(newline + 1) : undefined
  } catch {
    return undefined
  }
}

function writeCache({cacheFile, hash, script}) {
  const temp = `${cacheFile}.${process.pid}.tmp`
  try {
    fs.writeFileSync(temp, Buffer.concat([Buffer.from(`${hash}\n`, 'latin1'), script.createCachedData()]), {mode: 0o644})
    fs.renameSync(temp, cacheFile)
  } catch {
    try {
      fs.rmSync(temp, {force: true})
    } catch {
      // a read-only directory: nothing was written
    }
  }
}

function writeCaches() {
  for (const part of uncached) writeCache(part)
}

// What a part requires: another part by "./name", anything else as Node would from here.
function partRequire(specifier) {
  return specifier.startsWith('./') ? load(specifier.slice(2)) : nodeRequire(specifier)
}
partRequire.resolve = nodeRequire.resolve
partRequire.cache = nodeRequire.cache

// What a part import()s: another part, or through the process's own loader (ES-only packages,
// and the help classes or hooks oclif imports).
function partImport(specifier) {
  return specifier.startsWith('./') ? Promise.resolve().then(() => load(specifier.slice(2))) : import(specifier)
}

/** A part's exports, evaluating it on first use. */
function load(name) {
  const loaded = parts.get(name)
  if (loaded) return loaded.exports
  const file = path.join(__dirname, name)
  const source = fs.readFileSync(file, 'utf8')
  const hash = source.slice(source.lastIndexOf(HASH_LINE) + HASH_LINE.length).trim()
  const cacheFile = `${file}.cache`
  const cachedData = readCache(cacheFile, hash)
  // The part is its code wrapped as CommonJS wraps a module (scripts/bundle.js), plus __import.
  const script = new vm.Script(source, {filename: file, cachedData})
  if (!cachedData || script.cachedDataRejected) {
    if (uncached.length === 0) process.once('exit', writeCaches)
    uncached.push({cacheFile, hash, script})
  }
  const part = {exports: {}}
  // Before it runs, so that a part that requires it back (a cycle) gets its exports.
  parts.set(name, part)
  try {
    script.runInThisContext()(part.exports, partRequire, part, file, __dirname, partImport)
  } catch (err) {
    parts.delete(name)
    throw err
  }
  return part.exports
}

module.exports = {load}
