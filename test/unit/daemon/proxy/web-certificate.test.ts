import assert from 'node:assert/strict'
import {X509Certificate, generateKeyPairSync} from 'node:crypto'
import {mkdtempSync, rmSync, statSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {after, describe, test} from 'node:test'
import {loadOrCreateWebCertificate, readConfiguredKeyPairs, webCertificateNames, webCertificatePaths} from '../../../../src/daemon/proxy/web-certificate.js'
import {UserError} from '../../../../src/lib/errors.js'

describe('web proxy certificate', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'webcert-'))
  after(() => rmSync(dir, {recursive: true, force: true}))

  test('names: loopback, the nodename and public hosts, without wildcards or duplicates', () => {
    assert.deepEqual(webCertificateNames('node-1', ['proxy.example.com', '0.0.0.0', 'node-1']), ['localhost', '127.0.0.1', '::1', 'node-1', 'proxy.example.com'])
  })

  test('made once (ECDSA P-256, server auth, 0600), reused while it fits, replaced when a name is missing or it nears expiry', async () => {
    const names = webCertificateNames('node-1', ['proxy.example.com', '192.0.2.7'])
    const first = await loadOrCreateWebCertificate(dir, names)
    assert.equal(first.created, true)
    const cert = new X509Certificate(first.cert)
    assert.equal(cert.publicKey.asymmetricKeyDetails?.namedCurve, 'prime256v1')
    assert.equal(cert.checkHost('proxy.example.com'), 'proxy.example.com')
    assert.equal(cert.checkIP('192.0.2.7'), '192.0.2.7')
    assert.equal(cert.checkIP('::1'), '::1')
    assert.equal(cert.ca, false)
    const files = webCertificatePaths(dir)
    assert.equal(statSync(files.key).mode & 0o777, 0o600)
    assert.equal(statSync(files.cert).mode & 0o777, 0o600)

    const again = await loadOrCreateWebCertificate(dir, names)
    assert.equal(again.created, false)
    assert.equal(again.cert, first.cert)

    const renamed = await loadOrCreateWebCertificate(dir, [...names, 'new.example.com'])
    assert.equal(renamed.created, true)
    const later = await loadOrCreateWebCertificate(dir, [...names, 'new.example.com'], new Date(Date.now() + 360 * 24 * 3600_000))
    assert.equal(later.created, true, 'renewed within 30 days of expiry')
  })

  test('configured key pairs are checked: unreadable files and mismatched keys are clear errors', async () => {
    const made = await loadOrCreateWebCertificate(path.join(dir, 'other'), ['localhost'])
    const certFile = path.join(dir, 'cert.pem')
    const keyFile = path.join(dir, 'key.pem')
    writeFileSync(certFile, made.cert)
    writeFileSync(keyFile, made.key)
    const [pair] = readConfiguredKeyPairs([{keyFile, certFile}])
    assert.equal(pair.x509.checkHost('localhost'), 'localhost')

    const otherKey = path.join(dir, 'other-key.pem')
    writeFileSync(otherKey, generateKeyPairSync('ec', {namedCurve: 'P-256'}).privateKey.export({format: 'pem', type: 'pkcs8'}))
    assert.throws(() => readConfiguredKeyPairs([{keyFile: otherKey, certFile}]), (err: Error) => err instanceof UserError && /does not belong/.test(err.message))
    assert.throws(() => readConfiguredKeyPairs([{keyFile: path.join(dir, 'missing.pem'), certFile}]), (err: Error) => err instanceof UserError && /cannot read .*missing\.pem/.test(err.message))
  })
})
