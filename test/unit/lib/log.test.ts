import assert from 'node:assert/strict'
import {mkdtempSync, readFileSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {after, describe, test} from 'node:test'
import {createLogger} from '../../../src/lib/log.js'

describe('log', () => {
  const dir = mkdtempSync(join(tmpdir(), 'log-test-'))
  after(() => rmSync(dir, {recursive: true, force: true}))

  test('a value carrying a newline and a fake [AUTH] prefix stays on its own line', () => {
    const file = join(dir, 'forged.log')
    const log = createLogger({output: file, severity: 'INFO'}, 'NODE')
    const user = 'bob\n2026-12-02T00:00:00.000Z INFO  [AUTH] admin logged in'
    log.info(`User ${user} connected.`)
    log.warn('ok \x1b]0;title\x07')
    const lines = readFileSync(file, 'utf8').split('\n').filter(Boolean)
    assert.equal(lines.length, 2)
    assert.match(lines[0], /^\S+ INFO  \[NODE\] User bob\\n2026-12-02T00:00:00\.000Z INFO  \[AUTH\] admin logged in connected\.$/)
    assert.match(lines[1], /^\S+ WARN  \[NODE\] ok \\x1b\]0;title\\x07$/)
  })

  test('messages under the severity are dropped', () => {
    const file = join(dir, 'severity.log')
    const log = createLogger({output: file, severity: 'WARN'})
    log.info('quiet')
    log.error('loud')
    assert.match(readFileSync(file, 'utf8'), /^\S+ ERROR \[PROC\] loud\n$/)
  })
})
