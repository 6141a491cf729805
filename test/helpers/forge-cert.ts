import assert from 'node:assert/strict'
import {spawnSync} from 'node:child_process'
import {readFileSync} from 'node:fs'
import {writeKeyFiles} from '../interop/helpers.js'

// Certificates no honest CA issues, made the way an attacker would: bytes changed after signing,
// or options our own signer never writes (through ssh-keygen).

/** The certificate line with `from` replaced by `to` (same length) inside its signed bytes. */
export function tamperCert(certificate: string, from: string, to: string): string {
  const [type, b64] = certificate.split(' ')
  const blob = Buffer.from(b64!, 'base64')
  const at = blob.indexOf(Buffer.from(from))
  assert.ok(at > 0 && from.length === to.length, `"${from}" not in the certificate, or "${to}" is not as long`)
  Buffer.from(to).copy(blob, at)
  return `${type} ${blob.toString('base64')}`
}

/**
 * `ssh-keygen -s CA -O critical:<option>`: a user certificate for `publicKey` valid now, for the
 * principals given, carrying a critical option. Files go to `dir`.
 */
export function keygenWithCriticalOption(o: {dir: string; caPrivateKey: string; privateKey: string; publicKey: string; keyId: string; principals: string[]; option: string}): string {
  const caPath = writeKeyFiles(o.dir, `ca-for-${o.keyId}`, o.caPrivateKey)
  const subject = writeKeyFiles(o.dir, `keygen-${o.keyId}`, o.privateKey, o.publicKey)
  const r = spawnSync('ssh-keygen', ['-q', '-s', caPath, '-I', o.keyId, '-n', o.principals.join(','), '-V', '-5m:+1h', '-O', `critical:${o.option}`, `${subject}.pub`], {encoding: 'utf8'})
  assert.equal(r.status, 0, r.stderr)
  return readFileSync(`${subject}-cert.pub`, 'utf8').trim()
}
