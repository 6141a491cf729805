import assert from 'node:assert/strict'
import {describe, test} from 'node:test'
import {fromWireError, toWireError} from '../../../src/api/wire-errors.js'
import {statusOfAuthError} from '../../../src/daemon/proxy/web-api.js'
import {AccessDeniedError, AlreadyExistsError, BadParameterError, CompareFailedError, LimitExceededError, NotFoundError, UserError} from '../../../src/lib/errors.js'

// One map from error class to HTTP status (Teleport's trace codes), for the auth API and the
// proxy's web API alike; the client rebuilds the class from the kind.

const cases: [Error, number][] = [
  [new AccessDeniedError('no'), 403],
  [new NotFoundError('gone'), 404],
  [new AlreadyExistsError('there'), 409],
  [new CompareFailedError('changed meanwhile'), 412],
  [new BadParameterError('odd'), 400],
  [new LimitExceededError('slow down'), 429],
  [new Error('bug'), 500],
]

describe('error statuses', () => {
  for (const [err, status] of cases) {
    test(`${err.name} is ${status} on both APIs and comes back as itself`, () => {
      const wire = toWireError(err)
      assert.equal(wire.status, status)
      assert.equal(statusOfAuthError(err), status)
      if (status !== 500) assert.equal(fromWireError(wire.status, wire.body).constructor, err.constructor)
    })
  }

  test('a plain UserError is 422 from auth; at the proxy it means auth is unreachable: 503', () => {
    const err = new UserError('cannot reach the auth server at 127.0.0.1:3025: connection refused')
    assert.equal(toWireError(err).status, 422)
    assert.equal(statusOfAuthError(err), 503)
  })
})
