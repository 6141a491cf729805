import {describe, test} from 'node:test'
import assert from 'node:assert/strict'
import {BadParameterError} from '../../../src/lib/errors.js'
import {assertValidName, parseResource, parseResources, stringifyResources} from '../../../src/services/models/resource.js'
import {formatDuration, parseDuration} from '../../../src/services/duration.js'

describe('parseResources', () => {
  test('an alias bomb is a BadParameterError naming the file, not a crash', () => {
    const levels = ['l0: &l0 [x,x,x,x,x,x,x,x,x]', ...[1, 2, 3, 4, 5].map((i) => `l${i}: &l${i} [${Array(9).fill(`*l${i - 1}`).join(',')}]`)]
    assert.throws(() => parseResources(`${levels.join('\n')}\nkind: role\n`, {source: 'bomb.yaml'}), (err) => {
      assert.ok(err instanceof BadParameterError, String(err))
      assert.equal(err.message, 'bomb.yaml: YAML aliases expand to too many values (more than 100 copies)')
      return true
    })
  })

  test('parses one YAML document into the envelope', () => {
    const [r] = parseResources('kind: role\nversion: v5\nmetadata:\n  name: dev\n  labels: {team: a}\nspec:\n  allow: {logins: [root]}\n')
    assert.deepEqual(r, {kind: 'role', version: 'v5', metadata: {name: 'dev', labels: {team: 'a'}}, spec: {allow: {logins: ['root']}}})
  })

  test('parses several documents separated by ---, skipping empty ones', () => {
    const text = '---\nkind: role\nversion: v5\nmetadata: {name: a}\n---\n---\nkind: user\nversion: v2\nmetadata: {name: b}\nspec: {roles: [access]}\n'
    const all = parseResources(text)
    assert.deepEqual(
      all.map((r) => [r.kind, r.metadata.name]),
      [
        ['role', 'a'],
        ['user', 'b'],
      ],
    )
    assert.deepEqual(all[0]!.spec, {})
  })

  test('parses JSON, including a list of resources', () => {
    const all = parseResources('[{"kind":"token","version":"v2","metadata":{"name":"t1"},"spec":{}},{"kind":"role","version":"v5","metadata":{"name":"r"}}]')
    assert.deepEqual(
      all.map((r) => r.kind),
      ['token', 'role'],
    )
    assert.equal(parseResource('{"kind":"role","version":"v5","metadata":{"name":"x"}}').metadata.name, 'x')
  })

  test('malformed YAML names the line', () => {
    assert.throws(
      () => parseResources('kind: role\nmetadata:\n  name: x\n  bad: [1,\nspec: {}\n', {source: 'role.yaml'}),
      (err: Error) => err instanceof BadParameterError && /^role\.yaml: malformed YAML at line \d+, column \d+: /.test(err.message),
    )
    assert.throws(() => parseResources('a: 1\na: 2\n'), /malformed YAML at line 2, column 1: Map keys must be unique/)
  })

  test('unknown kind lists the accepted kinds', () => {
    assert.throws(() => parseResources('kind: rol\nversion: v5\nmetadata: {name: x}\n'), {
      name: 'BadParameterError',
      message: 'unknown resource kind "rol"; expected one of role, user, token, lock, node',
    })
  })

  test('says which document is wrong when there are several', () => {
    assert.throws(
      () => parseResources('kind: role\nversion: v5\nmetadata: {name: a}\n---\nkind: rol\nversion: v5\nmetadata: {name: b}\n', {source: 'f.yaml'}),
      {message: 'f.yaml: document 2 (line 5): unknown resource kind "rol"; expected one of role, user, token, lock, node'},
    )
  })

  test('refuses missing pieces and unknown fields', () => {
    assert.throws(() => parseResources('version: v5\nmetadata: {name: a}\n'), /missing resource kind/)
    assert.throws(() => parseResources('kind: role\nversion: v5\n'), /role: missing metadata.name/)
    assert.throws(() => parseResources('kind: role\nmetadata: {name: a}\n'), /role "a": missing version/)
    assert.throws(() => parseResources('kind: role\nversion: v5\nmetadata: {name: 123}\n'), /role: metadata.name: expected a string, got 123/)
    assert.throws(() => parseResources('kind: role\nversion: v5\nmetadata: {name: a}\nspecs: {}\n'), /unknown field "specs"/)
    assert.throws(() => parseResources('kind: role\nversion: v5\nmetadata: {name: a, nme: b}\n'), /metadata.nme: unknown field/)
    assert.throws(() => parseResources('kind: role\nversion: v5\nmetadata: {name: a}\nspec: [1]\n'), /spec: expected a mapping/)
    assert.throws(() => parseResources('kind: role\nversion: v5\nmetadata: {name: a/b}\n'), /invalid role name "a\/b"/)
    assert.throws(() => parseResources('\n# nothing\n'), /no resources found/)
    assert.throws(() => parseResource('kind: role\nversion: v5\nmetadata: {name: a}\n---\nkind: role\nversion: v5\nmetadata: {name: b}\n'), /expected one resource, found 2/)
  })

  test('normalises metadata.expires and refuses a bad one', () => {
    const [r] = parseResources('kind: token\nversion: v2\nmetadata: {name: a, expires: "2026-02-01T10:00:00+01:00"}\n')
    assert.equal(r!.metadata.expires, '2026-02-01T09:00:00.000Z')
    assert.throws(() => parseResources('kind: token\nversion: v2\nmetadata: {name: a, expires: soon}\n'), /metadata.expires: expected an RFC 3339 time/)
  })

  test('accepts other kinds when asked', () => {
    assert.equal(parseResources('kind: node\nversion: v2\nmetadata: {name: n}\n', {kinds: ['node']})[0]!.kind, 'node')
  })

  test('stringifies back to YAML documents and JSON', () => {
    const all = parseResources('kind: role\nversion: v5\nmetadata: {name: a}\n---\nkind: role\nversion: v5\nmetadata: {name: b}\n')
    assert.deepEqual(parseResources(stringifyResources(all)), all)
    assert.deepEqual(parseResources(stringifyResources(all, 'json')), all)
  })

  test('names', () => {
    assert.doesNotThrow(() => assertValidName('user', 'alice@example.com'))
    for (const bad of ['', 'a b', '..', 'x/y', 'tab\t']) assert.throws(() => assertValidName('user', bad), BadParameterError)
  })
})

describe('durations', () => {
  test('parses Go-style durations', () => {
    assert.equal(parseDuration('8h'), 8 * 3_600_000)
    assert.equal(parseDuration('30m'), 1_800_000)
    assert.equal(parseDuration('1h30m'), 5_400_000)
    assert.equal(parseDuration('1.5h'), 5_400_000)
    assert.equal(parseDuration('90s'), 90_000)
    assert.equal(parseDuration('250ms'), 250)
    assert.equal(parseDuration('0'), 0)
  })

  test('refuses the rest', () => {
    for (const bad of ['', '8', 'h', '8x', '1h 30m', '-1h', '1d']) assert.throws(() => parseDuration(bad), /invalid duration/)
  })

  test('formats like Go', () => {
    assert.equal(formatDuration(12 * 3_600_000), '12h0m0s')
    assert.equal(formatDuration(15 * 60_000), '15m0s')
    assert.equal(formatDuration(1500), '1.5s')
    assert.equal(formatDuration(5_400_000), '1h30m0s')
    assert.equal(formatDuration(0), '0s')
  })
})
