// SSH signatures (RFC 4253 §6.6, RFC 5656 §3.1.2, RFC 8332, RFC 8709) made and checked with
// node:crypto. This is what makes certificate verification real: sshpk never checks the
// signature of a certificate, only the fingerprint of the key named in it.

import {sign as cryptoSign, verify as cryptoVerify, type KeyObject} from 'node:crypto'
import {ECDSA_CURVES, type EcdsaCurveName, blobFromKeyObject, blobTypeName, publicKeyObjectFromBlob} from './public-key.js'
import {SshReader, SshWriter} from './wire.js'

/** Hash per RSA signature algorithm; "ssh-rsa" (SHA-1) is deliberately absent, as in OpenSSH 8.8+. */
const RSA_SIGNATURE_HASHES: Record<string, string> = {'rsa-sha2-256': 'sha256', 'rsa-sha2-512': 'sha512'}

/** Signs `data` and returns the SSH signature blob: string(algorithm) string(signature bytes). */
export function signSsh(privateKey: KeyObject, data: Buffer): Buffer {
  const keyType = blobTypeName(blobFromKeyObject(privateKey))
  if (keyType === 'ssh-ed25519') {
    return new SshWriter().string('ssh-ed25519').string(cryptoSign(null, data, privateKey)).toBuffer()
  }
  if (keyType === 'ssh-rsa') {
    return new SshWriter().string('rsa-sha2-512').string(cryptoSign('sha512', data, privateKey)).toBuffer()
  }
  const curveName = keyType.replace('ecdsa-sha2-', '') as EcdsaCurveName
  const curve = ECDSA_CURVES[curveName]
  const rs = cryptoSign(curve.hash, data, {key: privateKey, dsaEncoding: 'ieee-p1363'})
  const half = rs.length / 2
  const inner = new SshWriter().mpint(rs.subarray(0, half)).mpint(rs.subarray(half)).toBuffer()
  return new SshWriter().string(keyType).string(inner).toBuffer()
}

export type SignatureCheck = {ok: true; algorithm: string} | {ok: false; algorithm: string; problem: string}

function leftPad(bytes: Buffer, width: number): Buffer | undefined {
  if (bytes.length > width) return undefined
  return Buffer.concat([Buffer.alloc(width - bytes.length), bytes])
}

/**
 * Checks an SSH signature blob over `data` with the plain public key `keyBlob`. Never throws for a
 * bad signature: the caller decides how to word the refusal. The signature algorithm must belong
 * to the key type, or an attacker could pick a weaker one.
 */
export function verifySshSignature(keyBlob: Buffer, data: Buffer, signatureBlob: Buffer): SignatureCheck {
  let algorithm = '(unreadable)'
  try {
    const reader = new SshReader(signatureBlob, 'signature')
    algorithm = reader.text()
    const sig = reader.string()
    reader.end()
    const keyType = blobTypeName(keyBlob)
    const key = publicKeyObjectFromBlob(keyBlob)
    if (keyType === 'ssh-ed25519') {
      if (algorithm !== 'ssh-ed25519') return {ok: false, algorithm, problem: `an ssh-ed25519 key cannot make a "${algorithm}" signature`}
      if (sig.length !== 64) return {ok: false, algorithm, problem: 'ssh-ed25519 signature is not 64 bytes'}
      return result(cryptoVerify(null, data, key, sig), algorithm)
    }
    if (keyType === 'ssh-rsa') {
      if (algorithm === 'ssh-rsa') return {ok: false, algorithm, problem: 'signed with SHA-1 RSA ("ssh-rsa"), which is no longer accepted'}
      const hash = RSA_SIGNATURE_HASHES[algorithm]
      if (!hash) return {ok: false, algorithm, problem: `an ssh-rsa key cannot make a "${algorithm}" signature`}
      // OpenSSH tolerates signatures shorter than the modulus (leading zeros dropped) by padding them.
      const modulusBytes = Math.ceil((key.asymmetricKeyDetails?.modulusLength ?? 0) / 8)
      const padded = leftPad(sig, modulusBytes)
      if (!padded) return {ok: false, algorithm, problem: 'RSA signature is longer than the key'}
      return result(cryptoVerify(hash, data, key, padded), algorithm)
    }
    // ECDSA: the algorithm name is the key type, and the signature is string(mpint r, mpint s).
    if (algorithm !== keyType) return {ok: false, algorithm, problem: `an ${keyType} key cannot make a "${algorithm}" signature`}
    const curve = ECDSA_CURVES[keyType.replace('ecdsa-sha2-', '') as EcdsaCurveName]
    const rs = new SshReader(sig, 'ECDSA signature')
    const r = leftPad(rs.mpint(), curve.coordinateBytes)
    const s = leftPad(rs.mpint(), curve.coordinateBytes)
    rs.end()
    if (!r || !s) return {ok: false, algorithm, problem: 'ECDSA signature values are too large'}
    return result(cryptoVerify(curve.hash, data, {key, dsaEncoding: 'ieee-p1363'}, Buffer.concat([r, s])), algorithm)
  } catch (err) {
    // Unreadable keys or signatures are refusals, never crashes: fail closed.
    return {ok: false, algorithm, problem: (err as Error).message}
  }
}

function result(valid: boolean, algorithm: string): SignatureCheck {
  return valid ? {ok: true, algorithm} : {ok: false, algorithm, problem: 'the signature does not match the signed data'}
}
