// verifyCert: may this certificate be trusted, now, for this use? Every refusal is a
// CertificateError whose reason code is for programs and whose message is for people.

import {AccessDeniedError, BadParameterError} from '../lib/errors.js'
import {systemClock} from '../lib/clock.js'
import type {CertType, DecodedCertificate} from './cert-format.js'
import {fingerprintOfBlob} from './fingerprint.js'
import {decodeCertificateInput, parsedFromDecoded, type ParsedCert} from './parse.js'
import {parsePublicKeyLine} from './public-key.js'
import {verifySshSignature} from './signature.js'
import {plainIp} from '../lib/net/ip.js'
import {parseSourceAddressList, sourceAddressAllows} from './source-address.js'
import {OPT_FORCE_COMMAND, OPT_SOURCE_ADDRESS} from './teleport-extensions.js'

export type CertificateErrorReason =
  | 'signature'
  | 'untrusted-ca'
  | 'expired'
  | 'not-yet-valid'
  | 'wrong-type'
  | 'principal'
  | 'source-address'
  | 'unknown-critical-option'
  | 'malformed'

export class CertificateError extends AccessDeniedError {
  readonly reason: CertificateErrorReason
  /** The certificate as parsed, when it could be parsed: lets callers log who was refused. */
  readonly cert?: ParsedCert
  constructor(reason: CertificateErrorReason, message: string, options: {hint?: string; cause?: unknown; cert?: ParsedCert} = {}) {
    super(message, options)
    this.name = 'CertificateError'
    this.reason = reason
    if (options.cert) this.cert = options.cert
  }
}

export interface VerifyOptions {
  /** CA public key lines; "@cert-authority pattern ..." known_hosts lines also work. */
  trustedCAs: string[]
  type: CertType
  /** Login (user cert) or host name (host cert) that must be among the principals. */
  principal?: string
  /** Default: the system clock. */
  now?: Date
  /** Checked against the source-address critical option when both are present. */
  clientAddress?: string
}

/** Critical options we enforce (source-address) or report to the caller to enforce (force-command). */
const UNDERSTOOD_CRITICAL_OPTIONS = new Set([OPT_SOURCE_ADDRESS, OPT_FORCE_COMMAND])

/** 2026-11-21T10:00:00Z: whole seconds, as certificates count time. */
function formatTime(date: Date): string {
  return date.toISOString().replace(/\.\d{3}Z$/, 'Z')
}

function formatSeconds(seconds: bigint): string {
  const date = new Date(Number(seconds) * 1000)
  return Number.isNaN(date.getTime()) ? `${seconds} seconds after 1970` : formatTime(date)
}

function isParsedCert(value: unknown): value is ParsedCert {
  return typeof value === 'object' && value !== null && !Buffer.isBuffer(value) && Buffer.isBuffer((value as ParsedCert).blob)
}

function decode(input: string | Buffer | ParsedCert): {decoded: DecodedCertificate; cert: ParsedCert} {
  try {
    // Always decode from the blob, so a ParsedCert whose fields were edited cannot pass.
    const {decoded, comment} = decodeCertificateInput(isParsedCert(input) ? input.blob : input)
    return {decoded, cert: parsedFromDecoded(decoded, comment)}
  } catch (err) {
    if (!(err instanceof BadParameterError)) throw err
    throw new CertificateError('malformed', `certificate could not be read: ${err.message}`, {cause: err})
  }
}

function renewHint(type: CertType): string {
  return type === 'user' ? 'log in again' : 'the host needs a new host certificate'
}

export function verifyCert(input: string | Buffer | ParsedCert, opts: VerifyOptions): ParsedCert {
  const {decoded, cert} = decode(input)
  const fail = (reason: CertificateErrorReason, message: string): never => {
    throw new CertificateError(reason, message, {cert})
  }

  if (decoded.type !== opts.type) fail('wrong-type', `expected a ${opts.type} certificate but got a ${decoded.type} certificate`)

  // The CA must be trusted before its signature means anything; the key comes from the certificate.
  const trusted = opts.trustedCAs.some((line) => parsePublicKeyLine(line).blob.equals(decoded.signatureKeyBlob))
  if (!trusted) {
    fail('untrusted-ca', `certificate is not signed by a trusted certificate authority (it names CA ${fingerprintOfBlob(decoded.signatureKeyBlob)})`)
  }
  const check = verifySshSignature(decoded.signatureKeyBlob, decoded.signedData, decoded.signature)
  if (!check.ok) fail('signature', `certificate signature is invalid (${check.problem}); the certificate was altered or corrupted, ${renewHint(decoded.type)}`)

  // OpenSSH refuses certificates carrying critical options it does not know; so do we.
  for (const name of Object.keys(decoded.criticalOptions)) {
    if (!UNDERSTOOD_CRITICAL_OPTIONS.has(name)) fail('unknown-critical-option', `certificate has critical option "${name}", which is not supported; it cannot be accepted`)
  }

  const now = opts.now ?? systemClock.now()
  const nowSeconds = BigInt(Math.floor(now.getTime() / 1000))
  if (nowSeconds < decoded.validAfter) {
    fail('not-yet-valid', `certificate is not valid until ${formatSeconds(decoded.validAfter)} (now ${formatTime(now)}); check this machine's clock`)
  }
  if (nowSeconds >= decoded.validBefore) {
    fail('expired', `certificate expired at ${formatSeconds(decoded.validBefore)} (now ${formatTime(now)}); ${renewHint(decoded.type)}`)
  }

  if (opts.principal !== undefined && !decoded.principals.includes(opts.principal)) {
    const listed = decoded.principals.length > 0 ? `principals: ${decoded.principals.join(', ')}` : 'it lists no principals'
    const what = decoded.type === 'user' ? `allow login as "${opts.principal}"` : `name host "${opts.principal}"`
    fail('principal', `certificate does not ${what} (${listed})`)
  }

  const sourceAddress = decoded.criticalOptions[OPT_SOURCE_ADDRESS]
  if (sourceAddress !== undefined) {
    try {
      parseSourceAddressList(sourceAddress)
    } catch (err) {
      fail('malformed', `certificate has an unusable source-address option: ${(err as Error).message}`)
    }
    if (opts.clientAddress !== undefined && !sourceAddressAllows(sourceAddress, opts.clientAddress)) {
      fail('source-address', `certificate does not allow connections from ${plainIp(opts.clientAddress)} (allowed: ${sourceAddress})`)
    }
  }
  return cert
}
