import assert from 'node:assert/strict'
import {cpSync, mkdtempSync, readFileSync, rmSync, symlinkSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {after, before, describe, test} from 'node:test'
import {execFileSync} from 'node:child_process'
import {repoRoot, runBin, runTool} from '../helpers/cli.js'

const pkgVersion = (JSON.parse(readFileSync(path.join(repoRoot, 'package.json'), 'utf8')) as {version: string}).version

describe('one entrypoint, three tools', () => {
  for (const tool of ['tsh', 'tctl', 'teleport'] as const) {
    test(`${tool} --help reads as ${tool}`, () => {
      const r = runTool(tool, ['--help'])
      assert.equal(r.code, 0, r.stderr)
      assert.match(r.stdout, new RegExp(`\\$ ${tool} \\[COMMAND\\]`))
      assert.match(r.stdout, /^\s+version\s+Print the version\./m)
      assert.match(r.stdout, new RegExp(`source <\\(${tool} completion bash\\)`))
      assert.doesNotMatch(r.stdout, /(tsh|tctl|teleport) (tsh|tctl|teleport)\b/)
      assert.doesNotMatch(r.stdout, /teleport-ts/, 'the npm package name must not leak into help')
    })
  }

  test('tsh version --help shows usage and examples as tsh', () => {
    const r = runTool('tsh', ['version', '--help'])
    assert.equal(r.code, 0)
    assert.match(r.stdout, /\$ tsh version \[-d\] \[-f text\|json\|yaml\]/)
    assert.match(r.stdout, /\$ tsh version --format json/)
  })

  test('tsh version --format json gives the package version', () => {
    const r = runTool('tsh', ['version', '--format', 'json'])
    assert.equal(r.code, 0, r.stderr)
    const info = JSON.parse(r.stdout) as {version: string; runtime: string}
    assert.equal(info.version, pkgVersion)
    assert.equal(info.runtime, `node${process.versions.node}`)
  })

  test('--version answers like the version command', () => {
    const r = runTool('tctl', ['--version'])
    assert.equal(r.code, 0)
    assert.equal(r.stdout, `Teleport v${pkgVersion} node${process.versions.node}\n`)
  })

  test('a mistyped command is a usage error with a suggestion, in the tool\'s voice', () => {
    const r = runTool('tsh', ['vershun'])
    assert.equal(r.code, 2)
    assert.equal(r.stdout, '')
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr)
    assert.match(r.stderr, /unknown command "vershun" for "tsh".*did you mean "tsh version"/)
  })

  test('an unknown flag is a one-line usage error without a stack trace', () => {
    const r = runTool('tctl', ['version', '--bogus'])
    assert.equal(r.code, 2)
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr)
    assert.match(r.stderr, /Nonexistent flag: --bogus/)
    assert.doesNotMatch(r.stderr, /\bat \S+:\d+/)
  })

  test('-d is --debug in teleport start too: --data-dir has no short flag', () => {
    const help = runTool('teleport', ['start', '-d', '--data-dir', '/tmp/x', '--help'])
    assert.equal(help.code, 0, help.stderr)
    assert.match(help.stdout, /^\s+-d, --debug\s/m)
    assert.match(help.stdout, /^\s+--data-dir=<value>\s/m)
    const r = runTool('teleport', ['start', '-d', '/tmp/some-dir'])
    assert.equal(r.code, 2)
    assert.equal(r.stderr, 'ERROR: Unexpected argument: /tmp/some-dir (see --help)\n')
  })

  test('teleport start refuses a node name or label auth would refuse, in one line', () => {
    const args = ['start', '--roles=node', '--data-dir=/nonexistent/teleport-data', '--auth-server=127.0.0.1:1', '--token=x']
    const name = runTool('teleport', [...args, '--nodename=evil\x1b[2J'])
    assert.equal(name.code, 1)
    assert.equal(name.stderr, 'ERROR: --nodename: invalid hostname "evil\\u001b[2J": use at most 253 letters, digits and - . _\n')
    const label = runTool('teleport', [...args, '--nodename=ok', '--labels=env=a\x07b'])
    assert.equal(label.code, 1)
    assert.equal(label.stderr, 'ERROR: --labels: invalid value for label "env": use at most 1024 printable characters, without control characters\n')
  })

  test('no command reuses a short flag', () => {
    const manifest = JSON.parse(readFileSync(path.join(repoRoot, 'oclif.manifest.json'), 'utf8')) as {commands: Record<string, {flags: Record<string, {char?: string}>}>}
    for (const [id, command] of Object.entries(manifest.commands)) {
      const chars = Object.values(command.flags).flatMap((f) => (f.char ? [f.char] : []))
      assert.equal(new Set(chars).size, chars.length, `${id}: ${chars.join(' ')}`)
    }
  })

  test('a bad flag value names the allowed values', () => {
    const r = runTool('tsh', ['version', '--format', 'xml'])
    assert.equal(r.code, 2)
    assert.match(r.stderr, /xml/)
    assert.match(r.stderr, /text, json, yaml/)
  })

  describe('invoked through links', () => {
    let dir: string
    before(() => {
      dir = mkdtempSync(path.join(tmpdir(), 'links-'))
      for (const name of ['ssh', 'scp', 'tsh']) symlinkSync(path.join(repoRoot, 'bin', 'run.js'), path.join(dir, name))
    })
    after(() => rmSync(dir, {recursive: true, force: true}))

    test('a link named tsh anywhere acts as tsh', () => {
      const r = runBin(path.join(dir, 'tsh'), ['version'])
      assert.equal(r.code, 0, r.stderr)
      assert.match(r.stdout, /^Teleport v/)
    })

    for (const name of ['ssh', 'scp']) {
      test(`a link named ${name} acts as "tsh ${name}"`, () => {
        const r = runBin(path.join(dir, name), ['--help'])
        assert.equal(r.code, 0, r.stderr)
        assert.match(r.stdout, new RegExp(`\\$ tsh ${name} `))
      })
    }

    test('run.js under its own name takes the tool from the first argument, and refuses none', () => {
      assert.match(runBin(path.join(repoRoot, 'bin', 'run.js'), ['tctl', 'version']).stdout, /^Teleport v/)
      const r = runBin(path.join(repoRoot, 'bin', 'run.js'), ['version'])
      assert.equal(r.code, 2)
      assert.match(r.stderr, /run this program as tsh, tctl or teleport/)
    })
  })
})

describe('nested topics (fixture command tree)', () => {
  let root: string
  const entry = path.join(repoRoot, 'dist/lib/cli/entry.js')
  const run = (tool: string, argv: string[]) => {
    const script = `const m = await import(${JSON.stringify(entry)}); process.exitCode = await m.main({root: ${JSON.stringify(root)}, invokedAs: ${JSON.stringify(tool)}, argv: ${JSON.stringify(argv)}})`
    return runBin(process.execPath, ['--input-type=module', '-e', script])
  }

  before(() => {
    root = mkdtempSync(path.join(tmpdir(), 'nested-cli-'))
    cpSync(path.join(repoRoot, 'test/fixtures/nested-cli'), root, {recursive: true})
    symlinkSync(path.join(repoRoot, 'node_modules'), path.join(root, 'node_modules'))
    // Generated exactly as the product's build does it.
    execFileSync(path.join(repoRoot, 'node_modules/.bin/oclif'), ['manifest'], {cwd: root, stdio: 'ignore', env: {...process.env, OCLIF_SKIP_NEW_VERSION_CHECK: 'true'}})
  })
  after(() => rmSync(root, {recursive: true, force: true}))

  test('tsh proxy ssh runs the nested command', () => {
    const r = run('tsh', ['proxy', 'ssh', 'alice@node1'])
    assert.equal(r.code, 0, r.stderr)
    assert.equal(r.stdout, 'nested tsh proxy ssh alice@node1\n')
  })

  test('topic help lists the nested command as tsh proxy ssh', () => {
    const r = run('tsh', ['proxy', '--help'])
    assert.equal(r.code, 0, r.stderr)
    assert.match(r.stdout, /\$ tsh proxy COMMAND/)
    assert.match(r.stdout, /^\s+proxy ssh\s+Fixture: a nested command\./m)
    assert.doesNotMatch(r.stdout, /tsh tsh|teleport tsh/)
  })

  test('command help gives the nested usage line', () => {
    const r = run('tctl', ['users', 'add', '--help'])
    assert.match(r.stdout, /\$ tctl users add NAME/)
  })

  test('one tool does not see the other tool\'s commands', () => {
    const r = run('tctl', ['proxy', 'ssh', 'x'])
    assert.equal(r.code, 2)
    assert.match(r.stderr, /unknown command/)
  })

  test('a mistyped nested command suggests the right one', () => {
    const r = run('tsh', ['proxy', 'sssh'])
    assert.equal(r.code, 2)
    assert.match(r.stderr, /did you mean "tsh proxy ssh"/)
  })
})
