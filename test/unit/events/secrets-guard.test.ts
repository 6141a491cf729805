import {describe, test} from 'node:test'
import assert from 'node:assert/strict'
import {mkdtemp, readFile, readdir, rm} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {FakeClock} from '../../../src/lib/clock.js'
import {
  EventCode,
  EventName,
  FileAuditLog,
  MemoryAuditLog,
  isSecretFieldName,
  makeEvent,
  redactSecrets,
} from '../../../src/events/index.js'

const clock = new FakeClock(Date.parse('2026-11-21T12:00:00.000Z'))
const PEM = '-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA\n-----END OPENSSH PRIVATE KEY-----\n'

describe('isSecretFieldName', () => {
  const secret = [
    'password', 'Password', 'newPassword', 'new_password', 'password_hash', 'passwd', 'passphrase',
    'secret', 'totp_secret', 'clientSecret', 'otp', 'OTP', 'totp', 'totp_code', 'otpToken', 'hotp',
    'token', 'Token', 'tokens', 'auth_token', 'joinToken', 'bearer-token', 'session.token',
    'private_key', 'privateKey', 'PrivateKey', 'priv_key', 'privkey', 'ssh_private_key',
    'cookie', 'set_cookie', 'authorization', 'Authorization', 'credentials', 'recovery_codes',
  ]
  const safe = [
    'user', 'login', 'sid', 'uid', 'time', 'code', 'event', 'addr.remote', 'server_id', 'ei',
    'token_name', 'tokenType', 'token_ttl', 'token_expires', 'public_key', 'ca_pin', 'method',
    'roles', 'logins', 'keyboard', 'totally', 'topology', 'error', 'message',
  ]
  for (const name of secret) test(`${name} is secret`, () => assert.equal(isSecretFieldName(name), true))
  for (const name of safe) test(`${name} is not secret`, () => assert.equal(isSecretFieldName(name), false))
})

describe('redactSecrets', () => {
  test('strips at any depth, in arrays too, and reports paths but never values', () => {
    const event = makeEvent(
      EventName.UserLogin,
      EventCode.UserLoginFailure,
      {
        user: 'alice',
        password: 'pw-1',
        request: {otp: '123456', method: 'local', nested: {private_key: PEM}},
        attempts: [{token: 't-1', token_name: 'keep'}, 'plain', PEM],
        note: PEM,
      },
      clock,
    )
    const {event: clean, redacted} = redactSecrets(event)
    assert.deepEqual(redacted.sort(), ['attempts[0].token', 'attempts[2]', 'note', 'password', 'request.nested.private_key', 'request.otp'])
    assert.equal(clean.user, 'alice')
    assert.deepEqual(clean.request, {method: 'local', nested: {}})
    assert.deepEqual(clean.attempts, [{token_name: 'keep'}, 'plain'])
    assert.equal(JSON.stringify(clean).includes('pw-1'), false)
    assert.equal(JSON.stringify(clean).includes('PRIVATE KEY'), false)
    assert.equal(JSON.stringify(redacted).includes('pw-1'), false)
    assert.equal(event.password, 'pw-1', 'input untouched')
  })

  test('the same object twice (not a cycle) is fine', () => {
    const shared = {env: 'prod'}
    const event = makeEvent(EventName.Exec, EventCode.Exec, {a: shared, b: shared}, clock)
    assert.deepEqual(redactSecrets(event).event.b, {env: 'prod'})
  })
})

describe('no secret reaches storage', () => {
  const PASSWORD = 'correct-horse-battery-staple-7f3a'
  const OTP = '918273'

  function loginFailure() {
    return makeEvent(
      EventName.UserLogin,
      EventCode.UserLoginFailure,
      {user: 'alice', method: 'local', password: PASSWORD, second_factor: {otp: OTP}, sshPrivateKey: PEM, success: false, error: 'bad credentials'},
      clock,
    )
  }

  test('a password given to the file log never reaches disk', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'audit-secrets-'))
    const warnings: string[] = []
    try {
      const log = await FileAuditLog.open({dataDir, onWarning: (m) => warnings.push(m)})
      await log.emit(loginFailure())
      await log.close()

      const names = await readdir(log.dir)
      assert.deepEqual(names, ['2026-11-21.log'])
      const onDisk = await readFile(join(log.dir, names[0]!), 'utf8')
      assert.ok(onDisk.includes('"user":"alice"'), 'the event itself was written')
      assert.ok(onDisk.includes('"error":"bad credentials"'))
      assert.equal(onDisk.includes(PASSWORD), false, 'password on disk')
      assert.equal(onDisk.includes(OTP), false, 'otp on disk')
      assert.equal(onDisk.includes('PRIVATE KEY'), false, 'private key on disk')
      assert.equal(warnings.length, 1)
      assert.match(warnings[0]!, /password/)
      assert.equal(warnings[0]!.includes(PASSWORD), false, 'the warning names the field, not the value')
    } finally {
      await rm(dataDir, {recursive: true, force: true})
    }
  })

  test('the memory twin strips the same fields', async () => {
    const log = new MemoryAuditLog()
    await log.emit(loginFailure())
    const stored = JSON.stringify(log.all())
    assert.equal(stored.includes(PASSWORD), false)
    assert.equal(stored.includes(OTP), false)
    assert.equal(stored.includes('PRIVATE KEY'), false)
  })
})
