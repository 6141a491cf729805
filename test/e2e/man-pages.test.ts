import assert from 'node:assert/strict'
import {spawnSync} from 'node:child_process'
import {readdirSync, readFileSync} from 'node:fs'
import path from 'node:path'
import {describe, test} from 'node:test'
import {repoRoot} from '../helpers/cli.js'

// `npm run build` (run before the tests) generates man/ from the commands' own metadata.

function render(page: string): string {
  const r = spawnSync('man', ['-l', path.join(repoRoot, 'man', page)], {encoding: 'utf8', env: {...process.env, MANPAGER: 'cat', PAGER: 'cat', MANWIDTH: '100'}})
  assert.equal(r.status, 0, r.stderr)
  return r.stdout
}

describe('man pages', () => {
  test('man -l man/tsh.1 renders the tool page with its commands', () => {
    const out = render('tsh.1')
    assert.match(out, /tsh - Teleport's client/)
    assert.match(out, /COMMANDS[\s\S]*version[\s\S]*Print the version\./)
    assert.match(out, /source <\(tsh completion bash\)/)
    assert.match(out, /tsh-version\(1\)/)
  })

  test('each command has its page with synopsis, options and examples', () => {
    const out = render('tctl-version.1')
    assert.match(out, /tctl-version - Print the version\./)
    assert.match(out, /SYNOPSIS\s+tctl version \[FLAGS\]/)
    assert.match(out, /-f, --format text\|json\|yaml/)
    assert.match(out, /tctl version --format json/)
  })

  test('package.json lists exactly the pages in man/', () => {
    const pjson = JSON.parse(readFileSync(path.join(repoRoot, 'package.json'), 'utf8')) as {man: string[]}
    const pages = readdirSync(path.join(repoRoot, 'man')).filter((f) => f.endsWith('.1')).map((f) => `man/${f}`).sort()
    assert.deepEqual(pjson.man, pages)
    for (const tool of ['tsh', 'tctl', 'teleport']) assert.ok(pages.includes(`man/${tool}.1`))
  })
})
