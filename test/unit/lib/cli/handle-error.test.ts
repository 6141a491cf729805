import assert from 'node:assert/strict'
import {describe, test} from 'node:test'
import {Errors} from '@oclif/core'
import {AccessDeniedError, UsageError, UserError} from '../../../../src/lib/errors.js'
import {debugRequested, describeError} from '../../../../src/lib/cli/handle-error.js'
import {ProxyRouteError} from '../../../../src/client/connect/errors.js'

describe('error taxonomy', () => {
  test('user errors: one line, exit 1, hint kept on the line', () => {
    const r = describeError(new UserError('not logged in', {hint: 'run "tsh login --proxy=HOST"'}), false)!
    assert.equal(r.exitCode, 1)
    assert.equal(r.line, 'ERROR: not logged in (run "tsh login --proxy=HOST")')
    assert.equal(r.stack, undefined)
  })
  test('subclasses keep the user exit code', () => {
    assert.equal(describeError(new AccessDeniedError('access denied'), false)!.exitCode, 1)
  })
  test('an oclif flag error keeps its reason on the one line', () => {
    const err = new Errors.CLIError('Parsing --uses \n\\tExpected an integer greater than or equal to 1 but received: 0\nSee more help with --help', {exit: 2})
    const r = describeError(err, false)!
    assert.equal(r.line, 'ERROR: Parsing --uses Expected an integer greater than or equal to 1 but received: 0')
    assert.equal(r.exitCode, 2)
  })
  test('usage errors exit 2', () => {
    assert.equal(describeError(new UsageError('missing argument'), false)!.exitCode, 2)
  })
  test('a bug says so and points at --debug, without a stack', () => {
    const r = describeError(new TypeError("Cannot read properties of undefined (reading 'x')\nmore"), false)!
    assert.equal(r.exitCode, 1)
    assert.match(r.line, /^ERROR: Cannot read properties of undefined \(reading 'x'\) \(unexpected; run with --debug for details\)$/)
    assert.equal(r.stack, undefined)
  })
  test('with --debug the stack is shown', () => {
    const r = describeError(new Error('boom'), true)!
    assert.match(r.stack!, /Error: boom\n\s+at /)
  })
  test('names from the network in a message are shown escaped, on one line', () => {
    const r = describeError(new ProxyRouteError('failed to connect to evil\x1b[2J\x1b[H\r: connection refused'), false)!
    assert.equal(r.line, 'ERROR: failed to connect to evil\\x1b[2J\\x1b[H\\r: connection refused')
  })
  test("the proxy's own layout (the ambiguous-host table) is printed as it wrote it, escaped", () => {
    const r = describeError(new ProxyRouteError('error: ambiguous host could match multiple nodes\n\nNode Name\nevil\x1b[2J\n'), false)!
    assert.equal(r.details, 'error: ambiguous host could match multiple nodes\n\nNode Name\nevil\\x1b[2J\n')
    assert.equal(r.exitCode, 1)
  })
  test('an explicit exit is silent', () => {
    assert.equal(describeError(new Errors.ExitError(3), false), undefined)
  })
  test('--debug is found before --, and -d too, not after', () => {
    assert.equal(debugRequested(['ssh', '-d', 'host'], {}), true)
    assert.equal(debugRequested(['ssh', 'host', '--', 'ls', '--debug'], {}), false)
    assert.equal(debugRequested(['version'], {TELEPORT_DEBUG: '1'}), true)
  })
})
