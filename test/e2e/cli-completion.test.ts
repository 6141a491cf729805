import assert from 'node:assert/strict'
import {spawnSync} from 'node:child_process'
import {mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {after, before, describe, test} from 'node:test'
import {runTool} from '../helpers/cli.js'

// The generated scripts are loaded into real bash and zsh and asked for candidates.

let dir: string
before(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'completion-'))
})
after(() => rmSync(dir, {recursive: true, force: true}))

function script(tool: 'tsh' | 'tctl' | 'teleport', shell: 'bash' | 'zsh'): string {
  const r = runTool(tool, ['completion', shell])
  assert.equal(r.code, 0, r.stderr)
  const file = path.join(dir, `${tool}.${shell}`)
  writeFileSync(file, r.stdout)
  return file
}

function bashComplete(tool: 'tsh' | 'tctl' | 'teleport', words: string[]): string[] {
  const file = script(tool, 'bash')
  const program = `source ${JSON.stringify(file)}; COMP_WORDS=(${words.map((w) => JSON.stringify(w)).join(' ')}); COMP_CWORD=${words.length - 1}; _${tool}_complete; printf '%s\\n' "\${COMPREPLY[@]}"`
  const r = spawnSync('bash', ['--norc', '-c', program], {encoding: 'utf8'})
  assert.equal(r.status, 0, r.stderr)
  return r.stdout.split('\n').filter(Boolean)
}

describe('bash completion', () => {
  test('tsh ver completes to tsh version', () => {
    assert.deepEqual(bashComplete('tsh', ['tsh', 'ver']), ['version'])
  })
  test('an empty word offers every command', () => {
    const all = bashComplete('tctl', ['tctl', ''])
    assert.ok(all.includes('version') && all.includes('completion'), all.join(' '))
  })
  test('flags of the command, then the values a flag allows', () => {
    assert.deepEqual(bashComplete('tsh', ['tsh', 'version', '--f']), ['--format'])
    assert.deepEqual(bashComplete('tsh', ['tsh', 'version', '--format', 'j']), ['json'])
  })
  test('the script registers itself for its own tool only', () => {
    const r = runTool('teleport', ['completion', 'bash'])
    assert.match(r.stdout, /^complete -o default -F _teleport_complete teleport$/m)
  })
})

describe('zsh completion', () => {
  // compdef and compinit need an interactive completion system; _describe and compadd are
  // replaced by printers so the candidates our function computes can be read.
  function zshCandidates(words: string[]): string[] {
    const file = script('tsh', 'zsh')
    const program = [
      'compdef() { :; }',
      '_describe() { print -l -- "${(@P)4}"; }',
      'compadd() { shift; print -l -- "$@"; }',
      `source ${JSON.stringify(file)}`,
      `words=(${words.map((w) => JSON.stringify(w)).join(' ')}); CURRENT=${words.length}`,
      '_tsh_complete',
    ].join('\n')
    const r = spawnSync('zsh', ['-f', '-c', program], {encoding: 'utf8'})
    assert.equal(r.status, 0, r.stderr)
    return r.stdout.split('\n').filter(Boolean)
  }

  test('tsh ver offers version, described', () => {
    const candidates = zshCandidates(['tsh', 'ver']).filter((c) => c.startsWith('ver'))
    assert.deepEqual(candidates, ['version:Print the version.'])
  })
  test('flag values', () => {
    assert.deepEqual(zshCandidates(['tsh', 'version', '--format', '']), ['text', 'json', 'yaml'])
  })
})

test('an unknown shell is refused naming the choices', () => {
  const r = runTool('tsh', ['completion', 'fish'])
  assert.equal(r.code, 2)
  assert.match(r.stderr, /bash, zsh/)
})
