#!/usr/bin/env node
// npm run build: compile, then generate oclif.manifest.json and the man pages from the
// compiled commands, and keep package.json's "man" list in step with them; last, bundle what
// bin/run.js loads (start-up time is mostly module loading).
import {execFileSync} from 'node:child_process'
import {readFileSync, rmSync, writeFileSync} from 'node:fs'
import path from 'node:path'
import {fileURLToPath} from 'node:url'

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)))
const bin = (name) => path.join(root, 'node_modules', '.bin', name)
const step = (what) => process.stderr.write(`build: ${what}\n`)

step('compiling TypeScript')
rmSync(path.join(root, 'dist'), {recursive: true, force: true})
try {
  execFileSync(bin('tsc'), ['-p', root], {stdio: 'inherit'})
} catch {
  process.stderr.write('build: TypeScript compilation failed (errors above)\n')
  process.exit(1)
}

step('generating oclif.manifest.json')
execFileSync(bin('oclif'), ['manifest'], {
  cwd: root,
  stdio: ['ignore', 'ignore', 'inherit'],
  env: {...process.env, OCLIF_SKIP_NEW_VERSION_CHECK: 'true'},
})

// oclif writes commands in discovery order, which varies: sort them so rebuilds change nothing.
const manifestPath = path.join(root, 'oclif.manifest.json')
const manifest = JSON.parse(readFileSync(manifestPath, 'utf8'))
manifest.commands = Object.fromEntries(Object.entries(manifest.commands).sort(([a], [b]) => a.localeCompare(b)))
writeFileSync(manifestPath, JSON.stringify(manifest, null, 2) + '\n')

step('generating man pages')
const {loadToolConfig} = await import('../dist/lib/cli/entry.js')
const {toCommandInfo} = await import('../dist/lib/cli/command-tree.js')
const {writeManPages} = await import('../dist/lib/cli/manpages.js')
const pjsonPath = path.join(root, 'package.json')
const pjson = JSON.parse(readFileSync(pjsonPath, 'utf8'))
const tools = new Map()
for (const tool of ['tsh', 'tctl', 'teleport']) {
  const config = await loadToolConfig(root, tool)
  const commands = config.commands.filter((c) => !c.hidden).map((c) => toCommandInfo(tool, c))
  tools.set(tool, commands.sort((a, b) => a.path.localeCompare(b.path)))
}
// The last commit's date, so that rebuilding an unchanged tree rewrites nothing.
let date = new Date().toISOString().slice(0, 10)
try {
  date = execFileSync('git', ['log', '-1', '--format=%cs'], {cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore']}).trim() || date
} catch {
  // not a git checkout: today's date
}
const pages = writeManPages(root, tools, pjson.version, date)
if (JSON.stringify(pjson.man) !== JSON.stringify(pages)) {
  pjson.man = pages
  writeFileSync(pjsonPath, JSON.stringify(pjson, null, 2) + '\n')
}

step('bundling dist/bundle')
const {bundle} = await import('./bundle.js')
await bundle(root)

step('building the web UI into dist/web')
const {buildWeb} = await import('./build-web.js')
await buildWeb(root)
step(`done: ${pages.length} man pages`)
