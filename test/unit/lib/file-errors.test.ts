import assert from 'node:assert/strict'
import {describe, test} from 'node:test'
import {BadParameterError, NotFoundError, UserError} from '../../../src/lib/errors.js'
import {fileError, fileProblem} from '../../../src/lib/file-errors.js'

const errno = (code: string) => Object.assign(new Error(`${code}: something`), {code})

describe('file errors', () => {
  test('the codes that have a problem name', () => {
    assert.equal(fileProblem(errno('ENOENT')), 'missing')
    assert.equal(fileProblem(errno('EPERM')), 'denied')
    assert.equal(fileProblem(errno('EISDIR')), 'directory')
    assert.equal(fileProblem(errno('EIO')), undefined)
  })
  test('a named file', () => {
    const missing = fileError(errno('ENOENT'), '/x.yaml', {noun: 'config file'})
    assert.ok(missing instanceof NotFoundError)
    assert.equal(missing.message, 'config file /x.yaml does not exist')
    const denied = fileError(errno('EACCES'), '/id', {noun: 'identity file', hints: {denied: 'run as root'}})
    assert.equal(denied.message, 'no permission to read the identity file /id')
    assert.equal(denied.hint, 'run as root')
    assert.ok(fileError(errno('EISDIR'), '/d', {noun: 'config file'}) instanceof BadParameterError)
    assert.equal(fileError(errno('EIO'), '/id', {noun: 'identity file'}).message, 'cannot read the identity file /id: EIO')
  })
  test('a bare path, and writes', () => {
    assert.equal(fileError(errno('ENOENT'), 'r.yaml').message, 'r.yaml: no such file')
    assert.equal(fileError(errno('EISDIR'), 'r.yaml').message, 'r.yaml is a directory, not a file')
    assert.equal(fileError(errno('ENOENT'), '/no/dir/f', {action: 'write'}).message, 'cannot write /no/dir/f: the directory /no/dir does not exist')
    const denied = fileError(errno('EACCES'), '/f', {action: 'write'})
    assert.ok(denied instanceof UserError)
    assert.equal(denied.message, 'cannot write /f: permission denied')
  })
})
