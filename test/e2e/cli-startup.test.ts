import assert from 'node:assert/strict'
import {chmodSync, cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {after, before, describe, test} from 'node:test'
import {FileKeyStore} from '../../src/client/key-store.js'
import {saveLogin} from '../../src/client/profile.js'
import {generateKeyPair, signUserCert} from '../../src/sshca/index.js'
import {nobodySkipReason, repoRoot, runBin} from '../helpers/cli.js'

// What a start loads, counted in the child (no timing: the benchmark, npm run bench, times it).
// Commands that need no SSH must not load the SSH stack or daemon-only addons, and the tools run
// from the build's bundle, not from the compiled tree. The bundle's parts are compiled by
// dist/bundle/load.cjs (which Node loads) from their code caches, not by Node's module loaders.

// conf and ajv: tsh reads its config file through them only when one exists.
const HEAVY = /\/node_modules\/(ssh2|sshpk|better-sqlite3|bcrypt|node-pty|undici|conf|ajv)\//
const UNBUNDLED = /\/dist\/(?!bundle\/)/

// Every file loaded: ES modules as the loader reads them, CommonJS ones from require's cache at exit.
const RECORDER = `
import {appendFileSync} from 'node:fs'
import {createRequire, register} from 'node:module'
const log = process.env.LOADED_FILES_LOG
register('data:text/javascript,' + encodeURIComponent(
  'import {appendFileSync} from "node:fs"\\n' +
  'export async function load(url, context, next) { appendFileSync(' + JSON.stringify(log) + ', url + "\\\\n"); return next(url, context) }'))
const require = createRequire(import.meta.url)
process.on('exit', () => appendFileSync(log, [...Object.keys(require.cache), ...process.moduleLoadList].join('\\n') + '\\n'))
`

// The built-in modules a start loaded, from a CommonJS preload.
const BUILTINS_RECORDER = `process.on('exit', () => require('node:fs').appendFileSync(process.env.LOADED_FILES_LOG, process.moduleLoadList.join('\\n') + '\\n'))`

describe('start-up loads only what the command needs', () => {
  let dir: string
  let home: string

  before(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'cli-startup-'))
    writeFileSync(path.join(dir, 'recorder.mjs'), RECORDER)
    writeFileSync(path.join(dir, 'builtins.cjs'), BUILTINS_RECORDER)
    home = path.join(dir, 'tsh')
    const ca = generateKeyPair('ca')
    const user = generateKeyPair('alice')
    const certificate = signUserCert({
      caPrivateKey: ca.privateKey, publicKey: user.publicKey, keyId: 'alice', principals: ['alice'], ttlMs: 3_600_000,
      roles: ['access'], traits: {logins: ['alice']}, routeToCluster: 'startup.local',
    })
    saveLogin(new FileKeyStore(home), {
      profile: {webProxyAddr: '127.0.0.1:3080', sshProxyAddr: '127.0.0.1:3023', user: 'alice', cluster: 'startup.local', authType: 'local', forwardPorts: [], dynamicForwardPorts: []},
      privateKey: user.privateKey,
      publicKey: user.publicKey,
      certificate,
      hostCAs: [],
    })
  })
  after(() => rmSync(dir, {recursive: true, force: true}))

  function loadedBy(tool: string, args: string[]): {stdout: string; files: string[]; builtins: string[]} {
    const log = path.join(dir, `${tool}-${args.join('-')}.log`)
    const r = runBin(process.execPath, ['--import', path.join(dir, 'recorder.mjs'), path.join(repoRoot, 'bin', tool), ...args], {
      env: {TELEPORT_HOME: home, LOADED_FILES_LOG: log},
    })
    assert.equal(r.code, 0, r.stderr)
    const lines = readFileSync(log, 'utf8').split('\n')
    return {stdout: r.stdout, files: lines.filter((f) => f.includes(repoRoot) || f.includes('node_modules')), builtins: lines.flatMap((l) => /^NativeModule (\S+)$/.exec(l)?.[1] ?? [])}
  }

  for (const [tool, args] of [['tsh', ['status']], ['tsh', ['ls', '--help']], ['tctl', ['--help']], ['tsh', ['version']]] as const) {
    test(`${tool} ${args.join(' ')}: no SSH stack, no daemon addons, all from the bundle`, () => {
      const {stdout, files} = loadedBy(tool, [...args])
      assert.ok(files.some((f) => f.includes('/dist/bundle/')), 'the bundle was loaded')
      assert.deepEqual(files.filter((f) => HEAVY.test(f)), [])
      assert.deepEqual(files.filter((f) => UNBUNDLED.test(f)), [])
      if (args[0] === 'status') assert.match(stdout, /Logged in as:\s+alice/)
    })
  }

  test('tsh status: every part comes from its code cache, and what oclif loads only for spawning, prompting, colour or WSL waits', () => {
    const bundle = path.join(repoRoot, 'dist', 'bundle')
    const caches = () => new Map(readdirSync(bundle).filter((f) => f.endsWith('.cache')).map((f) => [f, statSync(path.join(bundle, f)).mtimeMs]))
    loadedBy('tsh', ['status'])
    const before = caches()
    assert.ok(before.has('oclif.cjs.cache') && before.has('entry.js.cache'), [...before.keys()].join(' '))
    const {files, builtins} = loadedBy('tsh', ['status'])
    assert.ok(files.some((f) => f.endsWith('/dist/bundle/load.cjs')), files.join('\n'))
    // A part loaded without its cache, or with one V8 rejected, would have its cache written at exit.
    // Only the caches that existed before count: test files running beside this one may start
    // commands whose parts have none yet, and those get theirs written meanwhile.
    const after = caches()
    assert.deepEqual(new Map([...before.keys()].map((f) => [f, after.get(f)])), before, 'every code cache was taken as it is')
    assert.deepEqual(builtins.filter((b) => ['child_process', 'readline', 'perf_hooks', 'tty'].includes(b)), [])
  })

  test('tsh status and tctl --help import no ES module: Node\'s ES module loader never starts', () => {
    for (const [tool, args] of [['tsh', ['status']], ['tctl', ['--help']]] as const) {
      const log = path.join(dir, `esm-${tool}.log`)
      // A CommonJS preload, which unlike --import leaves the ES module loader alone.
      const r = runBin(process.execPath, ['--require', path.join(dir, 'builtins.cjs'), path.join(repoRoot, 'bin', tool), ...args], {
        env: {TELEPORT_HOME: home, LOADED_FILES_LOG: log},
      })
      assert.equal(r.code, 0, r.stderr)
      const loaded = readFileSync(log, 'utf8').split('\n')
      assert.deepEqual(loaded.filter((m) => m.includes('internal/modules/esm/module_job')), [], `${tool} ${args.join(' ')}`)
    }
  })
})

describe('code caches of the bundle\'s parts', () => {
  // A copy of what an install holds, so that these runs change no cache of the checkout's.
  let install: string
  const bundleDir = () => path.join(install, 'dist', 'bundle')
  const cacheFiles = () => readdirSync(bundleDir()).filter((f) => f.endsWith('.cache'))
  const tshVersion = (prefix: string[] = []) => {
    const [cmd, ...args] = [...prefix, process.execPath, path.join(install, 'bin', 'tsh'), 'version']
    const r = runBin(cmd!, args)
    assert.equal(r.code, 0, r.stderr)
    assert.match(r.stdout, /^Teleport v/)
  }

  before(() => {
    install = mkdtempSync(path.join(tmpdir(), 'cli-install-'))
    chmodSync(install, 0o755)
    for (const entry of ['bin', 'dist/bundle', 'package.json', 'oclif.manifest.json']) {
      cpSync(path.join(repoRoot, entry), path.join(install, entry), {recursive: true, verbatimSymlinks: true})
    }
    symlinkSync(path.join(repoRoot, 'node_modules'), path.join(install, 'node_modules'))
  })
  after(() => rmSync(install, {recursive: true, force: true}))

  test('a cache V8 rejects, or one made from another part, is written again and the run goes on', () => {
    const cache = path.join(bundleDir(), 'entry.js.cache')
    const good = readFileSync(cache)
    const header = good.subarray(0, good.indexOf(10) + 1)
    for (const bad of [Buffer.concat([header, Buffer.from('not a code cache')]), Buffer.concat([Buffer.from('0123456789abcdef\n'), good.subarray(header.length)])]) {
      writeFileSync(cache, bad)
      tshVersion()
      const rewritten = readFileSync(cache)
      assert.ok(rewritten.subarray(0, header.length).equals(header) && rewritten.length > 1000, 'written again, for this part')
      tshVersion()
      assert.ok(readFileSync(cache).equals(rewritten), 'then taken as it is')
    }
  })

  test('a package\'s code cache is taken only for the content it was made from', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'cli-packages-'))
    try {
      const module = path.join(dir, 'node_modules', 'answer', 'index.js')
      mkdirSync(path.dirname(module), {recursive: true})
      writeFileSync(module, 'module.exports = {answer: 41 + 1, main: require.main === module}\n')
      const cacheFile = path.join(dir, 'packages.cache')
      const loader = path.join(bundleDir(), 'package-code-cache.cjs')
      const run = () => {
        const script = `require(${JSON.stringify(loader)}).install(${JSON.stringify(cacheFile)}); process.stdout.write(JSON.stringify(require(${JSON.stringify(module)})))`
        const r = runBin(process.execPath, ['-e', script])
        assert.equal(r.code, 0, r.stderr)
        return JSON.parse(r.stdout) as {answer: number}
      }
      const mtime = () => statSync(cacheFile).mtimeMs
      assert.equal(run().answer, 42)
      const written = readFileSync(cacheFile)
      assert.ok(written.includes(module) && written.length > 100, 'an entry for the file')
      const first = mtime()
      assert.equal(run().answer, 42)
      assert.equal(mtime(), first, 'taken as it is')
      // The same length (all V8 checks), other content: compiled afresh, never the old code.
      writeFileSync(module, 'module.exports = {answer: 40 + 3, main: require.main === module}\n')
      assert.equal(run().answer, 43)
      assert.ok(!readFileSync(cacheFile).equals(written), 'written again')
      writeFileSync(cacheFile, 'not a cache')
      assert.equal(run().answer, 43, 'a damaged cache file is no error')
      assert.ok(readFileSync(cacheFile).includes(module), 'and is made again')
    } finally {
      rmSync(dir, {recursive: true, force: true})
    }
  })

  test('an install nobody may write to runs without caches, and writes none', {skip: nobodySkipReason()}, () => {
    for (const file of cacheFiles()) rmSync(path.join(bundleDir(), file))
    tshVersion(['setpriv', '--reuid=65534', '--regid=65534', '--clear-groups'])
    assert.deepEqual(cacheFiles(), [])
    assert.deepEqual(readdirSync(bundleDir()).filter((f) => f.endsWith('.tmp')), [])
  })
})
