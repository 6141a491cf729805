// The web UI (web/ → dist/web/): one script and one style sheet, bundled with esbuild under
// content-hashed names in dist/web/app/, and index.html naming them. Nothing is loaded from
// elsewhere at run time; the page has no inline script (the proxy's Content-Security-Policy).
import {execFileSync} from 'node:child_process'
import {mkdirSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import path from 'node:path'
import {build} from 'esbuild'

export async function buildWeb(root) {
  // esbuild strips types without checking them: the page's sources are checked here.
  try {
    execFileSync(path.join(root, 'node_modules', '.bin', 'tsc'), ['-p', path.join(root, 'web')], {stdio: 'inherit'})
  } catch {
    process.stderr.write('build: the web UI does not type-check (errors above)\n')
    process.exit(1)
  }
  const out = path.join(root, 'dist', 'web')
  rmSync(out, {recursive: true, force: true})
  const result = await build({
    absWorkingDir: root,
    entryPoints: {main: 'web/src/main.ts'},
    outdir: path.join(out, 'app'),
    entryNames: '[name]-[hash]',
    assetNames: '[name]-[hash]',
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: ['chrome120', 'firefox120'],
    minify: true,
    sourcemap: false,
    legalComments: 'eof',
    metafile: true,
    logLevel: 'warning',
  })
  const outputs = Object.keys(result.metafile.outputs).map((file) => path.relative(path.join(out, 'app'), path.join(root, file)))
  const script = outputs.find((f) => /^main-\w+\.js$/.test(f))
  const style = outputs.find((f) => /^main-\w+\.css$/.test(f))
  if (!script || !style) throw new Error(`build: the web bundle lacks a script or a style sheet: ${outputs.join(', ')}`)
  const html = readFileSync(path.join(root, 'web', 'index.html'), 'utf8')
    .replace('%SCRIPT%', `/web/app/${script}`)
    .replace('%STYLE%', `/web/app/${style}`)
  mkdirSync(out, {recursive: true})
  writeFileSync(path.join(out, 'index.html'), html)
}
