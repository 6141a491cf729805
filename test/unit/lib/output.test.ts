import assert from 'node:assert/strict'
import {describe, test} from 'node:test'
import {colorEnabled, colors, renderData, renderTable} from '../../../src/lib/output.js'

const tty = {isTTY: true} as NodeJS.WriteStream
const pipe = {isTTY: false} as NodeJS.WriteStream

describe('output', () => {
  test('colour only on a TTY, never with NO_COLOR', () => {
    assert.equal(colorEnabled(tty, {}), true)
    assert.equal(colorEnabled(pipe, {}), false)
    assert.equal(colorEnabled(tty, {NO_COLOR: '1'}), false)
    assert.equal(colors(pipe).red('x'), 'x')
  })
  test('tables align columns and do not pad the last one', () => {
    assert.equal(renderTable(['Node Name', 'Address'], [['a', '1.2.3.4:3022'], ['longer-name', '⟵ Tunnel']]),
      'Node Name   Address\n----------- ------------\na           1.2.3.4:3022\nlonger-name ⟵ Tunnel\n')
  })
  test('control characters in cells are shown escaped and do not break the alignment', () => {
    assert.equal(renderTable(['Node Name', 'Labels'], [['evil\x1b[2J\x1b[H', 'env=a\nb'], ['ok', '']]),
      'Node Name         Labels\n----------------- --------\nevil\\x1b[2J\\x1b[H env=a\\nb\nok\n')
  })
  test('json and yaml render the data; text uses the renderer', () => {
    assert.deepEqual(JSON.parse(renderData('json', {a: [1]}, () => 'x')), {a: [1]})
    assert.equal(renderData('yaml', {a: [1]}, () => 'x'), 'a:\n  - 1\n')
    assert.equal(renderData('text', {a: [1]}, () => 'x'), 'x')
  })
})
