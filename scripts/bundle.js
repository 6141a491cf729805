// The bundle bin/run.js loads (scripts/load.cjs): the entrypoint, oclif and our code in a few
// dozen files instead of some three hundred modules, each command's own part evaluated only when
// it runs (COMMAND_MODULES imports them), so a tool reads and evaluates little more than the command
// it runs. Every part is CommonJS, compiled from V8's code cache by load.cjs, so that a start
// neither resolves nor links a module (Node's ES module loader stays out) nor compiles what it ran
// before. Packages we depend on stay outside (native addons, ssh2 whose internals src/ssh requires
// by path, and code only some commands load), except the pure-JS ones nearly every run loads and
// the ES-only ones our code imports statically.
import {execFileSync} from 'node:child_process'
import {createHash} from 'node:crypto'
import {copyFileSync, mkdirSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {builtinModules} from 'node:module'
import path from 'node:path'
import {build, transform} from 'esbuild'

// chalk and yaml are imported by lib/output.ts (every tctl command); conf (tsh's config files) and
// otpauth (TOTP) are ES modules only, which require() cannot load before Node 20.19. @oclif/core
// runs every command: it is bundled on its own (oclif.cjs).
const INLINED = new Set(['chalk', 'yaml', 'conf', 'otpauth'])

// What oclif requires at load but never calls for us: semver (its engines check, compiled out
// below), tinyglobby (finding commands by file pattern; ours are listed), minimatch (plugin name
// patterns; we have no plugins) and cli-spinners (ux.action, unused). Left out, they are not parsed
// at every start; should oclif ever call one, it fails saying so.
const LEFT_OUT = ['semver', 'tinyglobby', 'minimatch', 'cli-spinners']

const leaveOut = {
  name: 'leave-out',
  setup(build) {
    const filter = new RegExp(`^(${LEFT_OUT.join('|')})$`)
    build.onResolve({filter}, (args) => (args.importer.includes('/@oclif/core/') ? {path: args.path, namespace: 'left-out'} : undefined))
    build.onLoad({filter: /.*/, namespace: 'left-out'}, (args) => ({
      contents: `module.exports = new Proxy({}, {get: (_, key) => key === '__esModule' || key === 'default' ? undefined : () => { throw new Error(${JSON.stringify(`${args.path} is left out of the bundle (scripts/bundle.js)`)}) }})`,
      loader: 'js',
    }))
  },
}

// oclif import()s help classes, hooks and commands that are ES modules (ours are not: it requires
// them), tsx when run from TypeScript sources, and config files (lilconfig). Code run through
// vm.Script has no import() of its own on Node 20, so those calls (by a computed name; esbuild
// resolves the literal ones) go to the loader's (the __import parameter of the function load.cjs
// wraps each part in).
const importThroughLoader = {
  name: 'import-through-loader',
  setup(build) {
    build.onLoad({filter: /[\\/]node_modules[\\/].*\.[cm]?js$/}, (args) => {
      const source = readFileSync(args.path, 'utf8')
      return source.includes('import(') ? {contents: source.replaceAll(/\bimport\((?!['"])/g, '__import('), loader: 'js'} : undefined
    })
  },
}

// oclif sorts a plugin's commands by localeCompare, whose first call loads the ICU collator (some
// milliseconds of every start); the order only has to be stable (help sorts by code unit again).
const plainCommandOrder = {
  name: 'plain-command-order',
  setup(build) {
    build.onLoad({filter: /@oclif[\\/]core[\\/]lib[\\/]config[\\/]plugin\.js$/}, (args) => {
      const source = readFileSync(args.path, 'utf8')
      const sort = '.sort((a, b) => a.id.localeCompare(b.id))'
      if (source.split(sort).length !== 2) throw new Error(`expected one ${sort} in ${args.path}: update scripts/bundle.js`)
      return {contents: source.replace(sort, '.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))'), loader: 'js'}
    })
  },
}

// What oclif requires at load for what a plain command run never does (spawning, prompting,
// timing itself, asking whether the terminal takes colour): each is required on first use.
const LAZY_BUILTINS = ['child_process', 'readline', 'perf_hooks']
const LAZY_PACKAGES = ['supports-color']
const lazyModules = {
  name: 'lazy-modules',
  setup(build) {
    const filter = new RegExp(`^((node:)?(${LAZY_BUILTINS.join('|')})|${LAZY_PACKAGES.join('|')})$`)
    build.onResolve({filter}, (args) => {
      const builtin = !LAZY_PACKAGES.includes(args.path)
      if (args.namespace === 'lazy') return builtin ? {path: args.path, external: true} : undefined
      if (!builtin && !args.importer.includes('/@oclif/core/')) return undefined
      return {path: builtin ? `node:${args.path.replace(/^node:/, '')}` : args.path, namespace: 'lazy'}
    })
    build.onLoad({filter: /.*/, namespace: 'lazy'}, (args) => ({
      contents: `let real
const load = () => (real ??= require(${JSON.stringify(args.path)}))
module.exports = new Proxy({}, {
  get: (_, key) => load()[key],
  has: (_, key) => key in load(),
  ownKeys: () => Reflect.ownKeys(load()),
  getOwnPropertyDescriptor: (_, key) => {
    const found = Object.getOwnPropertyDescriptor(load(), key)
    return found && {...found, configurable: true}
  },
})`,
      loader: 'js',
      resolveDir: path.join(build.initialOptions.absWorkingDir, 'node_modules', '@oclif', 'core'),
    }))
  },
}

// oclif logs through `debug` (DEBUG=oclif*), which loads tty and supports-color at every start.
// Without DEBUG in the environment nothing is ever logged, so a silent stand-in serves; with it,
// the real package, as before.
const quietDebug = {
  name: 'quiet-debug',
  setup(build) {
    build.onResolve({filter: /^debug$/}, (args) => (args.namespace === 'quiet-debug' || !args.importer.includes('/@oclif/core/') ? undefined : {path: 'debug', namespace: 'quiet-debug'}))
    build.onLoad({filter: /.*/, namespace: 'quiet-debug'}, () => ({
      contents: `const silent = () => Object.assign(() => {}, {enabled: false, extend: silent})
module.exports = process.env.DEBUG ? require('debug') : silent`,
      loader: 'js',
      resolveDir: build.initialOptions.absWorkingDir,
    }))
  },
}

// oclif asks at every start whether it runs under WSL (wsl-utils, which loads child_process and
// more). The answer takes one look at the kernel's release; the rest is loaded only under WSL.
const cheapWslCheck = {
  name: 'cheap-wsl-check',
  setup(build) {
    build.onResolve({filter: /^wsl-utils$/}, (args) => (args.namespace === 'cheap-wsl' || !args.importer.includes('/@oclif/core/') ? undefined : {path: 'wsl-utils', namespace: 'cheap-wsl'}))
    build.onLoad({filter: /.*/, namespace: 'cheap-wsl'}, () => ({
      contents: `import {release} from 'node:os'
export const isWsl = process.platform === 'linux' && release().toLowerCase().includes('microsoft')
export const powerShellPath = async () => (await import('wsl-utils')).powerShellPath()`,
      loader: 'js',
      resolveDir: path.join(build.initialOptions.absWorkingDir, 'node_modules', '@oclif', 'core'),
    }))
  },
}

// Our code's imports of @oclif/core all reach the one copy in oclif.cjs.
const oclifPart = {
  name: 'oclif-part',
  setup(build) {
    build.onResolve({filter: /^@oclif\/core$/}, () => ({path: '@oclif/core', namespace: 'oclif-part'}))
    build.onLoad({filter: /.*/, namespace: 'oclif-part'}, () => ({contents: "module.exports = require('./oclif.cjs')", loader: 'js'}))
    build.onResolve({filter: /^\.\/oclif\.cjs$/}, (args) => (args.namespace === 'oclif-part' ? {path: args.path, external: true} : undefined))
  },
}

// An import() of a package we do not bundle, or of a built-in, is marked here and becomes a call
// of __import in the part (below): vm.Script has no import() of its own on Node 20.
const IMPORT_MARK = 'load-cjs-import:'
const markDynamicImports = {
  name: 'mark-dynamic-imports',
  setup(build) {
    build.onResolve({filter: /^[^.]/}, (args) => {
      if (args.kind !== 'dynamic-import' || args.path.startsWith(IMPORT_MARK) || !isExternal(build, args.path)) return undefined
      return {path: IMPORT_MARK + args.path, external: true}
    })
  },
}

function isExternal(build, specifier) {
  if (specifier.startsWith('node:')) return true
  const name = specifier.startsWith('@') ? specifier.split('/').slice(0, 2).join('/') : specifier.split('/')[0]
  return build.initialOptions.external.includes(name) || builtinModules.includes(name)
}

// What load.cjs runs: a CommonJS module's code in the function CommonJS wraps it in (plus
// __import), so that no copy of it is made at each start to wrap it; in plain ASCII (V8 keeps it one
// byte a character, half of what reading and hashing cost otherwise); ending in the line naming its
// content (load.cjs keeps a code cache only for the part it was made from: V8 itself compares the
// length alone).
function finishPart(code) {
  const ascii = code.replaceAll(/[^\x00-\x7f]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`)
  const wrapped = `(function (exports, require, module, __filename, __dirname, __import) {${ascii}\n})\n`
  return `${wrapped}//# bundle-hash=${createHash('sha256').update(wrapped).digest('hex').slice(0, 32)}\n`
}

// An ES module chunk as a CommonJS part: esbuild rewrites imports to require() (keeping live
// bindings: each use reads the exporting part's exports), import() of a chunk or a marked package
// becomes __import (load.cjs serves both), import.meta.url the part's own file.
async function toPart(esm, name) {
  const {code} = await transform(esm, {
    format: 'cjs',
    platform: 'node',
    target: 'node20',
    minifyWhitespace: true,
    minifySyntax: true,
    define: {'import.meta.url': '__bundleUrl'},
    // ES modules are strict; load.cjs passes the part's own path as __filename.
    banner: `'use strict';${esm.includes('import.meta.url') ? "var __bundleUrl=require('node:url').pathToFileURL(__filename).href;" : ''}`,
    // As an ES module of Node's (.mjs): a default import of a CommonJS package is its module.exports.
    sourcefile: name.replace(/\.js$/, '.mjs'),
  })
  const part = code.replaceAll(new RegExp(`\\bimport\\(\\s*(["'])(\\./|${IMPORT_MARK})`, 'g'), (_, quote, prefix) => `__import(${quote}${prefix === './' ? './' : ''}`)
  const left = /\bimport\(/.exec(part)
  if (left) throw new Error(`${name}: an import() load.cjs cannot serve is left (update scripts/bundle.js): ${part.slice(left.index - 80, left.index + 80)}`)
  return finishPart(part)
}

export async function bundle(root) {
  const pjson = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8'))
  const out = path.join(root, 'dist', 'bundle')
  rmSync(out, {recursive: true, force: true})
  const result = await build({
    absWorkingDir: root,
    entryPoints: {
      entry: 'src/lib/cli/entry.ts',
      commands: 'src/commands/index.ts',
      // oclif requires these by file: entry.ts names help.js and not-found-hook.js as its
      // siblings, which hand over these parts (below).
      'help-part': 'src/lib/cli/help.ts',
      'not-found-hook-part': 'src/lib/cli/not-found-hook.ts',
    },
    // dist/bundle sits as deep as dist/lib, so package.json is found at the same relative path.
    outdir: 'dist/bundle',
    write: false,
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    // typescript: oclif reads a tsconfig only when run from TypeScript sources, never from here.
    external: [...Object.keys(pjson.dependencies).filter((name) => !INLINED.has(name)), 'typescript'],
    plugins: [oclifPart, markDynamicImports],
    logLevel: 'warning',
  })
  mkdirSync(out, {recursive: true})
  for (const file of result.outputFiles) writeFileSync(file.path, await toPart(file.text, path.basename(file.path)))
  const oclif = await build({
    absWorkingDir: root,
    entryPoints: ['node_modules/@oclif/core/lib/index.js'],
    outfile: 'dist/bundle/oclif.cjs',
    write: false,
    bundle: true,
    // Less to read and hash at each start; names stay, so stack traces still read.
    minifyWhitespace: true,
    minifySyntax: true,
    format: 'cjs',
    platform: 'node',
    target: 'node20',
    external: ['typescript'],
    // oclif checks that node satisfies its own engines range by loading all of semver (some fifty
    // modules) on every start; npm checks ours, against package.json's "engines", at install.
    define: {'process.env.OCLIF_DISABLE_ENGINE_WARNING': '"true"'},
    plugins: [leaveOut, plainCommandOrder, importThroughLoader, lazyModules, quietDebug, cheapWslCheck],
    logLevel: 'warning',
  })
  writeFileSync(oclif.outputFiles[0].path, finishPart(oclif.outputFiles[0].text))
  // What oclif requires by name: CommonJS files (this package.json) handing over the parts.
  writeFileSync(path.join(out, 'package.json'), '{"type": "commonjs"}\n')
  for (const name of ['help', 'not-found-hook']) {
    writeFileSync(path.join(out, `${name}.js`), `'use strict'\nmodule.exports = require('./load.cjs').load('${name}-part.js')\n`)
  }
  for (const name of ['load.cjs', 'package-code-cache.cjs']) copyFileSync(path.join(root, 'scripts', name), path.join(out, name))
  // A run writes the code caches of the parts it loaded that had none, so that the first real
  // command finds most of them.
  for (const args of [['tsh', '--help'], ['tctl', '--help'], ['teleport', '--help']]) {
    execFileSync(process.execPath, [path.join(root, 'bin', 'run.js'), ...args], {stdio: 'ignore'})
  }
}
