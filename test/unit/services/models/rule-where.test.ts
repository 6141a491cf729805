import {describe, test} from 'node:test'
import assert from 'node:assert/strict'
import {BadParameterError} from '../../../../src/lib/errors.js'
import {parseWhere, whereHolds, type WhereContext} from '../../../../src/services/models/rule-where.js'

// A role rule's `where`: the small predicate language, parsed strictly and evaluated against the
// user and the session asked about.

const alice = {name: 'alice', roles: ['access']}
const bobsSession = {participants: ['bob', 'carol'], user: 'bob'}
const sharedSession = {participants: ['bob', 'alice'], user: 'bob'}

function holds(source: string, context: WhereContext): boolean | undefined {
  return whereHolds(parseWhere(source), context)
}

function assertRefused(source: string, message: string | RegExp) {
  assert.throws(() => parseWhere(source), (err: Error) => {
    assert.ok(err instanceof BadParameterError, `expected BadParameterError, got ${err}`)
    if (typeof message === 'string') assert.equal(err.message, message)
    else assert.match(err.message, message)
    return true
  })
}

describe('where: evaluation', () => {
  test('contains(session.participants, user.metadata.name): only sessions the user took part in', () => {
    const own = 'contains(session.participants, user.metadata.name)'
    assert.equal(holds(own, {user: alice, session: sharedSession}), true)
    assert.equal(holds(own, {user: alice, session: bobsSession}), false)
  })

  test('equals(session.user, user.metadata.name): only sessions the user started', () => {
    const started = 'equals(session.user, user.metadata.name)'
    assert.equal(holds(started, {user: alice, session: sharedSession}), false)
    assert.equal(holds(started, {user: {name: 'bob', roles: []}, session: sharedSession}), true)
  })

  test('string literals, !, && and || with && binding tighter, and parentheses', () => {
    const ctx = {user: alice, session: bobsSession}
    assert.equal(holds('contains(user.spec.roles, "access")', ctx), true)
    assert.equal(holds('!contains(user.spec.roles, "access")', ctx), false)
    assert.equal(holds('equals("a", "b") || equals("a", "a") && equals("b", "c")', ctx), false)
    assert.equal(holds('(equals("a", "b") || equals("a", "a")) && equals("b", "b")', ctx), true)
    assert.equal(holds('equals("x", "x") || equals("a", "b") && equals("b", "c")', ctx), true)
    assert.equal(holds('!!equals(session.user, "bob")', ctx), true)
    assert.equal(holds(' equals( "say \\"hi\\" \\\\" , "say \\"hi\\" \\\\" ) ', ctx), true)
  })

  test('a condition needing a part the context lacks is unknown, not false', () => {
    const own = 'contains(session.participants, user.metadata.name)'
    assert.equal(holds(own, {user: alice}), undefined)
    assert.equal(holds(own, {}), undefined)
    assert.equal(holds('contains(user.spec.roles, "access")', {user: alice}), true)
    assert.deepEqual([...parseWhere(own).needs].sort(), ['session', 'user'])
  })
})

describe('where: parsing refuses what it does not know, saying where', () => {
  test('unknown functions and fields', () => {
    assertRefused('startswith(session.user, "a")', 'unknown function "startswith"; supported functions are contains, equals (column 1)')
    assertRefused('contains(session.hosts, user.metadata.name)', /^unknown field "session\.hosts"; lists are session\.participants, user\.spec\.roles \(column 10\)$/)
    assertRefused('equals(user.name, "a")', /^unknown field "user\.name"; fields are session\.user, user\.metadata\.name, /)
  })

  test('type errors: a list where a string goes and the reverse', () => {
    assertRefused('contains(session.user, "a")', /contains needs a list first, and session\.user is a string/)
    assertRefused('equals(session.participants, "a")', /session\.participants is a list where a string is expected/)
  })

  test('syntax: missing parts, trailing text, bad strings, bare values', () => {
    assertRefused('contains(session.participants user.metadata.name)', 'expected "," (column 31)')
    assertRefused('equals("a", "a"', 'expected ")" before the end (column 16)')
    assertRefused('equals("a", "a") extra', /^unexpected "extra" \(column 18\)$/)
    assertRefused('equals("a, "a")', /^expected "," /)
    assertRefused('equals("a\\n", "a")', /only \\" and \\\\ may be escaped/)
    assertRefused('equals("a", "unterminated)', /unterminated string \(column 13\)/)
    assertRefused('"a"', /expected contains\(\.\.\.\), equals\(\.\.\.\), !, or \(/)
    assertRefused('', /expected contains/)
    assertRefused('equals("a", "a") & equals("b", "b")', /unexpected "& equals/)
  })

  test('length and depth are bounded', () => {
    assertRefused(`equals("${'a'.repeat(1100)}", "a")`, /longer than 1024 characters/)
    assertRefused(`${'('.repeat(40)}equals("a", "a")${')'.repeat(40)}`, /nested more than 32 deep/)
    assertRefused(`${'!'.repeat(40)}equals("a", "a")`, /nested more than 32 deep/)
  })
})
