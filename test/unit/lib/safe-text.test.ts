import assert from 'node:assert/strict'
import {describe, test} from 'node:test'
import YAML from 'yaml'
import {hasControlChars, safeLines, safeText, toSafeJSON} from '../../../src/lib/safe-text.js'
import {toSafeYAML} from '../../../src/lib/yaml-text.js'

describe('safeText', () => {
  test('shows ESC, DEL and C1 controls as escapes', () => {
    assert.equal(safeText('node\x1b[2J\x1b[Hx'), 'node\\x1b[2J\\x1b[Hx')
    assert.equal(safeText('a\x7fb\x9bc\x00'), 'a\\x7fb\\x9bc\\x00')
  })
  test('line breaks and tabs cannot start a new line', () => {
    assert.equal(safeText('v\n2026-01-01 INFO [AUTH] forged\r\t'), 'v\\n2026-01-01 INFO [AUTH] forged\\r\\t')
  })
  test('bidirectional overrides and Unicode line separators are escaped', () => {
    assert.equal(safeText('a\u202eb\u2028c\u2066'), 'a\\u202eb\\u2028c\\u2066')
  })
  test('printable text, including non-ASCII, is unchanged', () => {
    const text = 'node-1.example.com env=prod ⟵ Tunnel é 日本 \\x1b'
    assert.equal(safeText(text), text)
    assert.equal(hasControlChars(text), false)
    assert.equal(hasControlChars('a\x1b'), true)
  })
  test('safeLines keeps line breaks and escapes inside the lines', () => {
    assert.equal(safeLines('error: x\n\nnode\x1b[2J\n'), 'error: x\n\nnode\\x1b[2J\n')
  })
})

describe('JSON and YAML output', () => {
  const value = {'k\x9bey': 'a\u202eb\x1b[2J', list: ['x\x85y', 'plain'], multi: 'one\ntwo\x7f', n: 5}
  test('JSON escapes what JSON.stringify leaves raw, and reads back the same', () => {
    const json = toSafeJSON(value)
    assert.equal(hasControlChars(json.replaceAll('\n', '')), false)
    assert.match(json, /"k\\u009bey": "a\\u202eb\\u001b\[2J"/)
    assert.deepEqual(JSON.parse(json), value)
  })
  test('YAML double-quotes and escapes them, and reads back the same', () => {
    const yaml = toSafeYAML(value)
    assert.equal(hasControlChars(yaml.replaceAll('\n', '')), false)
    assert.match(yaml, /^"k\\u009bey": "a\\u202eb\\e\[2J"$/m)
    assert.deepEqual(YAML.parse(yaml), value)
    assert.equal(toSafeYAML({a: 'plain', b: ['x']}), 'a: plain\nb:\n  - x\n')
  })
})
