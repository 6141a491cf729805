import assert from 'node:assert/strict'
import {describe, test} from 'node:test'
import {EscapeFilter, escapeHelp, type EscapeEvent} from '../../../../src/client/ssh/escape.js'
import {LinePrefixer} from '../../../../src/client/ssh/line-prefixer.js'

function run(filter: EscapeFilter, ...chunks: string[]): Array<string> {
  const out: EscapeEvent[] = chunks.flatMap((c) => filter.push(Buffer.from(c, 'latin1')))
  return out.map((e) => (Buffer.isBuffer(e) ? e.toString('latin1') : `<${e}>`))
}

describe('escape sequences', () => {
  test('~. at the start disconnects; nothing after it is sent', () => {
    assert.deepEqual(run(new EscapeFilter(), '~.ls\r'), ['<disconnect>'])
  })
  test('~. after Enter (CR or LF) disconnects', () => {
    assert.deepEqual(run(new EscapeFilter(), 'echo hi\r~.'), ['echo hi\r', '<disconnect>'])
    assert.deepEqual(run(new EscapeFilter(), 'x\n', '~', '.'), ['x\n', '<disconnect>'])
  })
  test('a ~ inside a line passes through at once', () => {
    assert.deepEqual(run(new EscapeFilter(), 'cd ~.'), ['cd ~.'])
  })
  test('~? prints help and sends nothing; ~~ sends one ~', () => {
    assert.deepEqual(run(new EscapeFilter(), '~?'), ['<help>'])
    assert.deepEqual(run(new EscapeFilter(), '~~/bin'), ['~/bin'])
  })
  test('~ followed by another key sends both', () => {
    assert.deepEqual(run(new EscapeFilter(), '~x'), ['~x'])
  })
  test('the held ~ waits for the next chunk', () => {
    const f = new EscapeFilter()
    assert.deepEqual(run(f, '~'), [])
    assert.deepEqual(run(f, 'a'), ['~a'])
  })
  test('after ~~ the line is no longer at its start', () => {
    assert.deepEqual(run(new EscapeFilter(), '~~~.'), ['~~.'])
  })
  test('another escape character', () => {
    assert.deepEqual(run(new EscapeFilter('%'), '~.%.'), ['~.%.'])
    assert.deepEqual(run(new EscapeFilter('%'), '%.'), ['<disconnect>'])
  })
  test('help text uses CRLF (raw terminal) and names the character', () => {
    assert.match(escapeHelp(), /~\.\s+- terminate connection\r\n/)
    assert.match(escapeHelp('\x1d'), /\^\]\./)
  })
})

describe('LinePrefixer', () => {
  test('prefixes whole lines, holds partial ones, flushes the tail with a newline', () => {
    const out: string[] = []
    const p = new LinePrefixer('[n1] ', (t) => out.push(t))
    p.push(Buffer.from('a\nb'))
    p.push(Buffer.from('c\n\nd'))
    p.flush()
    assert.equal(out.join(''), '[n1] a\n[n1] bc\n[n1] \n[n1] d\n')
  })
  test('a multi-byte character split across chunks stays whole', () => {
    const out: string[] = []
    const p = new LinePrefixer('> ', (t) => out.push(t))
    const bytes = Buffer.from('é\n')
    p.push(bytes.subarray(0, 1))
    p.push(bytes.subarray(1))
    assert.equal(out.join(''), '> é\n')
  })
})
