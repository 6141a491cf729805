// The bundle bin/run.js loads: the entrypoint, oclif and our code in a few files instead of some
// three hundred, so start-up reads little and resolves almost nothing. Each command is its own
// chunk (COMMAND_MODULES imports them lazily), so a tool evaluates only the command it runs.
// Packages we depend on stay outside (native addons, ssh2 whose internals src/ssh requires by
// path, and code only some commands load), except the pure-JS ones nearly every run loads.
import {execFileSync} from 'node:child_process'
import {copyFileSync, readFileSync, rmSync} from 'node:fs'
import path from 'node:path'
import {build} from 'esbuild'

// chalk and yaml are imported by lib/output.ts (every tctl command). @oclif/core runs every
// command: it is bundled on its own, as CommonJS, and loaded with V8's code cache (oclif-loader.cjs).
const INLINED = new Set(['chalk', 'yaml'])

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

// oclif's module loader import()s our help class and hooks. Code run through vm.Script has no
// import() of its own on Node 20, so those calls go to the loader's (the __import parameter of
// the function oclif-loader.cjs wraps oclif.cjs in).
const importThroughLoader = {
  name: 'import-through-loader',
  setup(build) {
    build.onLoad({filter: /@oclif[\\/]core[\\/]lib[\\/]module-loader\.js$/}, (args) => {
      const source = readFileSync(args.path, 'utf8')
      const calls = source.split('await import(').length - 1
      if (calls !== 3) throw new Error(`expected 3 import() calls in ${args.path}, found ${calls}: update scripts/bundle.js`)
      return {contents: source.replaceAll('await import(', 'await __import('), loader: 'js'}
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

// Our code's imports of @oclif/core all reach the one copy the loader makes.
const oclifThroughLoader = {
  name: 'oclif-through-loader',
  setup(build) {
    build.onResolve({filter: /^@oclif\/core$/}, () => ({path: '@oclif/core', namespace: 'oclif-loader'}))
    build.onLoad({filter: /.*/, namespace: 'oclif-loader'}, () => ({contents: "module.exports = require('./oclif-loader.cjs')", loader: 'js'}))
    build.onResolve({filter: /^\.\/oclif-loader\.cjs$/}, (args) => (args.namespace === 'oclif-loader' ? {path: args.path, external: true} : undefined))
  },
}

export async function bundle(root) {
  const pjson = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8'))
  rmSync(path.join(root, 'dist', 'bundle'), {recursive: true, force: true})
  await build({
    absWorkingDir: root,
    entryPoints: {
      // entry.ts names help.js and not-found-hook.js as its siblings, for oclif to import.
      entry: 'src/lib/cli/entry.ts',
      help: 'src/lib/cli/help.ts',
      'not-found-hook': 'src/lib/cli/not-found-hook.ts',
      commands: 'src/commands/index.ts',
    },
    // dist/bundle sits as deep as dist/lib, so package.json is found at the same relative path.
    outdir: 'dist/bundle',
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    // typescript: oclif reads a tsconfig only when run from TypeScript sources, never from here.
    external: [...Object.keys(pjson.dependencies).filter((name) => !INLINED.has(name)), 'typescript'],
    // oclif is CommonJS: its require() of node built-ins needs a real require in an ES module.
    banner: {js: "import {createRequire as __bundleRequire} from 'node:module'; const require = __bundleRequire(import.meta.url);"},
    plugins: [oclifThroughLoader],
    logLevel: 'warning',
  })
  await build({
    absWorkingDir: root,
    entryPoints: ['node_modules/@oclif/core/lib/index.js'],
    outfile: 'dist/bundle/oclif.cjs',
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
    plugins: [leaveOut, importThroughLoader, lazyModules, quietDebug, cheapWslCheck],
    logLevel: 'warning',
  })
  copyFileSync(path.join(root, 'scripts', 'oclif-loader.cjs'), path.join(root, 'dist', 'bundle', 'oclif-loader.cjs'))
  // The first load writes the code cache, so that the first real command finds it.
  execFileSync(process.execPath, [path.join(root, 'dist', 'bundle', 'oclif-loader.cjs')], {stdio: 'inherit'})
}
