import assert from 'node:assert/strict'
import {describe, test} from 'node:test'
import {hasControlChars, safeLines, safeText} from '../../../src/lib/safe-text.js'

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
