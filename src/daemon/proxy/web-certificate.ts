import {webcrypto, X509Certificate, createPrivateKey} from 'node:crypto'
import {readFileSync} from 'node:fs'
import {isIP} from 'node:net'
import path from 'node:path'
import {writeFileAtomic} from '../../lib/atomic-write.js'
import {UserError} from '../../lib/errors.js'

// The web proxy's TLS key pair: the configured https_keypairs, or a self-signed ECDSA P-256
// certificate made on first start and kept in <data_dir>/proxy/ (reused while it is valid and
// names every address we answer on). Users of a self-signed proxy log in with --insecure or
// pin the cluster CA; the certificate only needs to be stable.

export interface WebKeyPair {
  /** PEM (PKCS#8 for the generated key). */
  key: string
  /** PEM. */
  cert: string
}

const VALIDITY_MS = 365 * 24 * 3600_000
/** Replace a generated certificate this long before it expires. */
const RENEW_BEFORE_MS = 30 * 24 * 3600_000

export function webCertificatePaths(dataDir: string) {
  const dir = path.join(dataDir, 'proxy')
  return {key: path.join(dir, 'webproxy_key.pem'), cert: path.join(dir, 'webproxy_cert.pem')}
}

/** The names a generated certificate carries: loopback, the nodename, the public hosts. */
export function webCertificateNames(nodeName: string, publicHosts: string[]): string[] {
  return [...new Set(['localhost', '127.0.0.1', '::1', nodeName, ...publicHosts].filter((n) => n && n !== '0.0.0.0' && n !== '::'))]
}

/** Reads a kept certificate that still fits, or makes and keeps a new one. */
export async function loadOrCreateWebCertificate(dataDir: string, names: string[], now = new Date()): Promise<WebKeyPair & {created: boolean}> {
  const files = webCertificatePaths(dataDir)
  const kept = readKept(files.key, files.cert)
  if (kept && fits(kept.cert, names, now)) return {...kept, created: false}
  const fresh = await createSelfSigned(names, now)
  writeFileAtomic(files.key, fresh.key)
  writeFileAtomic(files.cert, fresh.cert)
  return {...fresh, created: true}
}

/** The configured `https_keypairs`, each checked to be a readable, matching pair. */
export function readConfiguredKeyPairs(pairs: Array<{keyFile: string; certFile: string}>): Array<WebKeyPair & {x509: X509Certificate}> {
  return pairs.map(({keyFile, certFile}) => {
    const read = (file: string) => {
      try {
        return readFileSync(file, 'utf8')
      } catch (err) {
        throw new UserError(`cannot read ${file} (proxy_service.https_keypairs): ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`)
      }
    }
    const key = read(keyFile)
    const cert = read(certFile)
    let x509: X509Certificate
    try {
      x509 = new X509Certificate(cert)
      if (!x509.checkPrivateKey(createPrivateKey(key))) throw new Error('the key does not belong to the certificate')
    } catch (err) {
      throw new UserError(`unusable HTTPS key pair ${certFile} / ${keyFile}: ${(err as Error).message}`)
    }
    return {key, cert, x509}
  })
}

/** Whether the certificate signs itself (ours, or a configured one nobody vouches for). */
export function isSelfSigned(certPem: string): boolean {
  const cert = new X509Certificate(certPem)
  // (not checkIssued: OpenSSL's check also wants keyCertSign, which our server certificate lacks)
  return cert.issuer === cert.subject && cert.verify(cert.publicKey)
}

function readKept(keyFile: string, certFile: string): WebKeyPair | undefined {
  try {
    const key = readFileSync(keyFile, 'utf8')
    const cert = readFileSync(certFile, 'utf8')
    if (!new X509Certificate(cert).checkPrivateKey(createPrivateKey(key))) return undefined
    return {key, cert}
  } catch {
    return undefined
  }
}

function fits(certPem: string, names: string[], now: Date): boolean {
  const cert = new X509Certificate(certPem)
  if (new Date(cert.validTo).getTime() - RENEW_BEFORE_MS < now.getTime()) return false
  return names.every((name) => (isIP(name) ? cert.checkIP(name) !== undefined : cert.checkHost(name, {wildcards: false}) !== undefined))
}

async function createSelfSigned(names: string[], now: Date): Promise<WebKeyPair> {
  await import('reflect-metadata')
  const x509 = await import('@peculiar/x509')
  const crypto = webcrypto as unknown as Crypto
  const algorithm = {name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256'}
  const keys = (await crypto.subtle.generateKey(algorithm, true, ['sign', 'verify'])) as CryptoKeyPair
  const cert = await x509.X509CertificateGenerator.createSelfSigned(
    {
      name: `CN=${names.find((n) => !isIP(n) && n !== 'localhost') ?? 'localhost'}, O=Teleport`,
      keys,
      signingAlgorithm: algorithm,
      notBefore: new Date(now.getTime() - 60_000),
      notAfter: new Date(now.getTime() + VALIDITY_MS),
      extensions: [
        new x509.BasicConstraintsExtension(false, undefined, true),
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
        new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
        new x509.SubjectAlternativeNameExtension(names.map((value) => ({type: isIP(value) ? ('ip' as const) : ('dns' as const), value}))),
      ],
    },
    crypto,
  )
  const pkcs8 = Buffer.from(await crypto.subtle.exportKey('pkcs8', keys.privateKey))
  const key = createPrivateKey({key: pkcs8, format: 'der', type: 'pkcs8'}).export({format: 'pem', type: 'pkcs8'}).toString()
  return {key, cert: cert.toString('pem') + '\n'}
}
