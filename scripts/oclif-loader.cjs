'use strict'
// @oclif/core for the bundle, compiled once: Node 20 has no compile cache for modules (22 has
// module.enableCompileCache), and compiling oclif is most of what a command's start costs. This
// loads dist/bundle/oclif.cjs (oclif bundled as one CommonJS file) through vm.Script with V8's code
// cache kept beside it (oclif.cjs.cache). The cache is written after the first load (npm run build
// makes that load) and rewritten when V8 rejects it (another Node version); where it cannot be
// written, oclif is simply compiled as before.
const fs = require('node:fs')
const Module = require('node:module')
const path = require('node:path')
const vm = require('node:vm')

const file = path.join(__dirname, 'oclif.cjs')
const cacheFile = `${file}.cache`

function readCache() {
  try {
    return fs.readFileSync(cacheFile)
  } catch {
    return undefined
  }
}

function writeCache(script) {
  const temp = `${cacheFile}.${process.pid}.tmp`
  try {
    fs.writeFileSync(temp, script.createCachedData(), {mode: 0o644})
    fs.renameSync(temp, cacheFile)
  } catch {
    fs.rmSync(temp, {force: true})
  }
}

// CommonJS's wrapper, plus __import: oclif's import() of our help class and hooks (rewritten so
// by scripts/bundle.js) comes here, where the process's own loader serves it.
const wrapped = `(function (exports, require, module, __filename, __dirname, __import) {${fs.readFileSync(file, 'utf8')}\n})`
const cachedData = readCache()
const script = new vm.Script(wrapped, {filename: file, cachedData})
const oclif = {exports: {}}
script.runInThisContext()(oclif.exports, Module.createRequire(file), oclif, file, __dirname, (specifier) => import(specifier))
if (!cachedData || script.cachedDataRejected) writeCache(script)
module.exports = oclif.exports
