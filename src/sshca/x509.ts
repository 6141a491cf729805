import {X509Certificate, createPrivateKey, randomBytes, webcrypto} from 'node:crypto'
import {BadParameterError} from '../lib/errors.js'
import {parsePublicKeyLine, publicKeyObjectFromBlob} from './public-key.js'
import {CertificateError} from './verify.js'

// The cluster's TLS user CA and the X.509 client certificates it signs: the same identity as a
// user's SSH certificate (user, roles, logins, cluster, TTL), on the same public key, so the
// private key tsh made never leaves its machine. The identity is in the subject as Teleport
// writes it: CN = user, O = each role, L = each login, STREET = the cluster it routes to.
// The proxy's fast relay takes these at its TLS handshake (src/daemon/proxy/tls-relay.ts).
// @peculiar/x509 is loaded only to make and read certificates (the daemon, tsh login).

export interface TlsCAKeyPair {
  /** The CA's self-signed certificate (PEM). */
  certificate: string
  /** PKCS#8 PEM (ECDSA P-256). */
  privateKey: string
}

export interface X509UserIdentity {
  username: string
  roles: string[]
  logins: string[]
  /** The cluster the certificate was issued by (and routes to). */
  cluster: string
}

const CA_VALIDITY_MS = 10 * 365 * 24 * 3600_000
/** Backdated like the SSH certificates, for clocks a little behind auth's. */
const BACKDATE_MS = 60_000
/** streetAddress: Teleport writes the cluster a certificate routes to there. */
const STREET = '2.5.4.9'
const ALGORITHM = {name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256'}

async function x509lib() {
  await import('reflect-metadata')
  return import('@peculiar/x509')
}

const subtle = () => (webcrypto as unknown as Crypto).subtle

/** A new TLS user CA for `clusterName` (auth's first start). */
export async function generateTlsCA(clusterName: string, now: Date): Promise<TlsCAKeyPair> {
  const x509 = await x509lib()
  const keys = (await subtle().generateKey(ALGORITHM, true, ['sign', 'verify'])) as CryptoKeyPair
  const cert = await x509.X509CertificateGenerator.createSelfSigned(
    {
      serialNumber: randomSerial(),
      name: new x509.Name([{CN: [clusterName]}, {O: [clusterName]}]),
      keys,
      signingAlgorithm: ALGORITHM,
      notBefore: new Date(now.getTime() - BACKDATE_MS),
      notAfter: new Date(now.getTime() + CA_VALIDITY_MS),
      extensions: [
        new x509.BasicConstraintsExtension(true, 0, true),
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign | x509.KeyUsageFlags.digitalSignature, true),
      ],
    },
    webcrypto as unknown as Crypto,
  )
  const pkcs8 = Buffer.from(await subtle().exportKey('pkcs8', keys.privateKey))
  const privateKey = createPrivateKey({key: pkcs8, format: 'der', type: 'pkcs8'}).export({format: 'pem', type: 'pkcs8'}).toString()
  return {certificate: cert.toString('pem') + '\n', privateKey}
}

/** An X.509 client certificate for `identity` on the OpenSSH public key `publicKey`, valid `ttlMs` from `now`. */
export async function signX509UserCert(request: {ca: TlsCAKeyPair; publicKey: string; identity: X509UserIdentity; ttlMs: number; now: Date}): Promise<string> {
  const x509 = await x509lib()
  const {identity} = request
  const spki = publicKeyObjectFromBlob(parsePublicKeyLine(request.publicKey).blob).export({format: 'der', type: 'spki'})
  const caCert = new x509.X509Certificate(request.ca.certificate)
  const caKeyDer = createPrivateKey(request.ca.privateKey).export({format: 'der', type: 'pkcs8'})
  const signingKey = await subtle().importKey('pkcs8', caKeyDer, ALGORITHM, false, ['sign'])
  const subject: Array<Record<string, string[]>> = [{CN: [identity.username]}, ...(identity.roles.length ? [{O: identity.roles}] : []), ...(identity.logins.length ? [{L: identity.logins}] : []), {[STREET]: [identity.cluster]}]
  const cert = await x509.X509CertificateGenerator.create(
    {
      serialNumber: randomSerial(),
      subject: new x509.Name(subject as never),
      issuer: caCert.subjectName,
      publicKey: new x509.PublicKey(spki),
      signingKey,
      signingAlgorithm: ALGORITHM,
      notBefore: new Date(request.now.getTime() - BACKDATE_MS),
      notAfter: new Date(request.now.getTime() + request.ttlMs),
      extensions: [
        new x509.BasicConstraintsExtension(false, undefined, true),
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
        new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.clientAuth]),
        await x509.AuthorityKeyIdentifierExtension.create(caCert, false, webcrypto as unknown as Crypto),
      ],
    },
    webcrypto as unknown as Crypto,
  )
  return cert.toString('pem') + '\n'
}

/**
 * Checks a client certificate (DER, as the TLS handshake gave it; possession of its key was
 * proven there) against the trusted TLS user CAs at `now`; returns who it names. Throws a
 * CertificateError saying why it is refused.
 */
export async function verifyX509UserCert(der: Buffer, trustedCAs: readonly string[], now: Date): Promise<X509UserIdentity & {expires: Date}> {
  let cert: X509Certificate
  try {
    cert = new X509Certificate(der)
  } catch (err) {
    throw new CertificateError('signature', `the client certificate cannot be read: ${(err as Error).message}`)
  }
  const ca = trustedCAs.map((pem) => new X509Certificate(pem)).find((c) => c.subject === cert.issuer && cert.verify(c.publicKey))
  if (!ca) throw new CertificateError('untrusted-ca', 'the client certificate is not signed by this cluster\'s TLS user CA', {hint: 'log in to this cluster with tsh login'})
  const notBefore = new Date(cert.validFrom)
  const notAfter = new Date(cert.validTo)
  if (now < notBefore) throw new CertificateError('not-yet-valid', `the client certificate is not valid before ${notBefore.toISOString()}`)
  if (now >= notAfter) throw new CertificateError('expired', `the client certificate expired at ${notAfter.toISOString()}`, {hint: 'log in again with tsh login'})
  const x509 = await x509lib()
  const subject = new x509.X509Certificate(new Uint8Array(der)).subjectName
  const username = subject.getField('CN')[0]
  const cluster = subject.getField(STREET)[0]
  if (!username || !cluster) throw new CertificateError('wrong-type', 'the client certificate names no Teleport user or cluster')
  return {username, roles: subject.getField('O'), logins: subject.getField('L'), cluster, expires: notAfter}
}

/** Whether a PEM certificate is valid at `now` and certifies the OpenSSH public key `publicKey`. */
export function x509CertifiesKey(pem: string, publicKey: string, now: Date): boolean {
  try {
    const cert = new X509Certificate(pem)
    const spki = publicKeyObjectFromBlob(parsePublicKeyLine(publicKey).blob).export({format: 'der', type: 'spki'})
    const certSpki = cert.publicKey.export({format: 'der', type: 'spki'})
    return certSpki.equals(spki) && new Date(cert.validFrom) <= now && now < new Date(cert.validTo)
  } catch {
    return false
  }
}

/** The PEM's certificates must each be readable X.509. */
export function assertPemCertificates(pem: string, what: string): void {
  const blocks = pem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? []
  if (blocks.length === 0) throw new BadParameterError(`${what} holds no PEM certificate`)
  for (const block of blocks) {
    try {
      new X509Certificate(block)
    } catch (err) {
      throw new BadParameterError(`${what} holds an unreadable certificate: ${(err as Error).message}`)
    }
  }
}

function randomSerial(): string {
  const bytes = randomBytes(16)
  bytes[0]! &= 0x7f // positive
  return bytes.toString('hex')
}
