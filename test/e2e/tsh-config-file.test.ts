import assert from 'node:assert/strict'
import {mkdirSync, mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {after, describe, test} from 'node:test'
import {repoRoot, runBin} from '../helpers/cli.js'

// tsh's config file as a user meets it through the real bin/tsh: aliases run (in this tsh, or as
// a program), the site-wide file is merged under the user's, and a mistake is one line naming
// the file, the line and the key.

const TSH = path.join(repoRoot, 'bin', 'tsh')

describe('tsh config file (~/.tsh/config/config.yaml)', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'tsh-config-'))
  const userFile = path.join(dir, '.tsh', 'config', 'config.yaml')
  const siteFile = path.join(dir, 'site', 'tsh.yaml')
  mkdirSync(path.dirname(userFile), {recursive: true})
  mkdirSync(path.dirname(siteFile), {recursive: true})
  const env = {HOME: dir, TELEPORT_HOME: '', TELEPORT_GLOBAL_TSH_CONFIG: siteFile}
  const tsh = (...args: string[]) => runBin(TSH, args, {env, input: ''})
  after(() => rmSync(dir, {recursive: true, force: true}))

  test('aliases: in this tsh with $0..$9, as a program with $TSH, from the site-wide file too', () => {
    writeFileSync(siteFile, 'aliases:\n  ver: "tsh version --format json"\n')
    writeFileSync(userFile, [
      'aliases:',
      '  v: "$TSH ver"',
      `  args: "sh -c 'echo first=$0 second=$1 via=$TSH; exit 4'"`,
      '',
    ].join('\n'))
    const v = tsh('v')
    assert.equal(v.code, 0, v.stderr)
    assert.ok(JSON.parse(v.stdout).version, v.stdout)
    const args = tsh('args', 'a b', 'c')
    assert.equal(args.code, 4, args.stderr)
    assert.equal(args.stdout, `first=a b second=c via=${TSH}\n`)
  })

  test('an alias loop: one line with the chain', () => {
    writeFileSync(userFile, 'aliases:\n  a: "tsh b"\n  b: "tsh a"\n')
    const r = tsh('a')
    assert.equal(r.code, 1)
    assert.equal(r.stderr, `ERROR: alias loop: a -> b -> a (fix the aliases in ${siteFile} or ${userFile})\n`)
  })

  test('a typo: one line naming the file, the line and the key, exit 1', () => {
    writeFileSync(userFile, 'proxy: proxy.example.com\nadd_key_to_agent: yes\n')
    const r = tsh('status')
    assert.equal(r.code, 1)
    assert.equal(r.stderr, `ERROR: ${userFile}:2: unknown key "add_key_to_agent" (did you mean "add_keys_to_agent"?)\n`)
  })
})
