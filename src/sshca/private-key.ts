// Private keys: Ed25519 generation and the OpenSSH "openssh-key-v1" file format, written by hand
// so the bytes are exactly what ssh-keygen writes (ssh-keygen -y and ssh2's parseKey read them).
// Other key types and formats are only read (a CA made elsewhere may be RSA or ECDSA).

import {createPrivateKey, createPublicKey, generateKeyPairSync, randomBytes, type KeyObject} from 'node:crypto'
import {createRequire} from 'node:module'
import {BadParameterError} from '../lib/errors.js'
import {blobFromKeyObject, publicKeyLine} from './public-key.js'
import {SshReader, SshWriter} from './wire.js'

export interface KeyPair {
  /** OpenSSH PEM: "-----BEGIN OPENSSH PRIVATE KEY-----". */
  privateKey: string
  /** authorized_keys line: "ssh-ed25519 AAAA... [comment]". */
  publicKey: string
}

const MAGIC = Buffer.from('openssh-key-v1\0', 'latin1')
const PEM_BEGIN = '-----BEGIN OPENSSH PRIVATE KEY-----'
const PEM_END = '-----END OPENSSH PRIVATE KEY-----'
/** ssh-keygen pads the private section to the cipher block size; 8 for "none". */
const BLOCK_SIZE = 8

export function generateKeyPair(comment?: string): KeyPair {
  const {privateKey} = generateKeyPairSync('ed25519')
  return {privateKey: encodeOpenSshPrivateKey(privateKey, comment ?? ''), publicKey: publicKeyLine(blobFromKeyObject(privateKey), comment)}
}

/** Serialises an Ed25519 private key as an unencrypted OpenSSH private key file. */
export function encodeOpenSshPrivateKey(key: KeyObject, comment = ''): string {
  const jwk = key.export({format: 'jwk'})
  if (jwk.kty !== 'OKP' || jwk.crv !== 'Ed25519' || !jwk.d) throw new BadParameterError('only Ed25519 private keys can be written in OpenSSH format')
  const seed = Buffer.from(jwk.d, 'base64url')
  const pub = Buffer.from(jwk.x!, 'base64url')
  const publicBlob = new SshWriter().string('ssh-ed25519').string(pub).toBuffer()
  // The two equal check integers let a reader detect a wrong passphrase; random like ssh-keygen.
  const check = randomBytes(4).readUInt32BE()
  const section = new SshWriter()
    .uint32(check)
    .uint32(check)
    .string('ssh-ed25519')
    .string(pub)
    .string(Buffer.concat([seed, pub])) // OpenSSH stores the 64-byte "secret key": seed then public key
    .string(comment)
    .toBuffer()
  const padLength = (BLOCK_SIZE - (section.length % BLOCK_SIZE)) % BLOCK_SIZE
  const padding = Buffer.from(Array.from({length: padLength}, (_, i) => i + 1))
  const body = new SshWriter()
    .raw(MAGIC)
    .string('none')
    .string('none')
    .string('')
    .uint32(1)
    .string(publicBlob)
    .string(Buffer.concat([section, padding]))
    .toBuffer()
  const lines = body.toString('base64').match(/.{1,70}/g)!
  return [PEM_BEGIN, ...lines, PEM_END, ''].join('\n')
}

/** Reads an unencrypted OpenSSH Ed25519 private key; undefined when it holds another key type. */
function decodeOpenSshEd25519(text: string): KeyObject | undefined {
  const start = text.indexOf(PEM_BEGIN)
  const end = text.indexOf(PEM_END)
  if (start < 0 || end < start) throw new BadParameterError('OpenSSH private key is missing its END line')
  const body = Buffer.from(text.slice(start + PEM_BEGIN.length, end).replace(/\s+/g, ''), 'base64')
  if (!body.subarray(0, MAGIC.length).equals(MAGIC)) throw new BadParameterError('not an OpenSSH private key (bad magic)')
  const reader = new SshReader(body.subarray(MAGIC.length), 'OpenSSH private key')
  const cipher = reader.text()
  reader.text() // kdf name
  reader.string() // kdf options
  if (cipher !== 'none') throw new BadParameterError('the private key is protected by a passphrase; remove it first (ssh-keygen -p -N "" -f KEY)')
  if (reader.uint32() !== 1) throw new BadParameterError('OpenSSH private key files holding several keys are not supported')
  const publicBlob = reader.string()
  const section = new SshReader(reader.string(), 'OpenSSH private key')
  reader.end()
  if (section.uint32() !== section.uint32()) throw new BadParameterError('OpenSSH private key is corrupt (check integers differ)')
  if (section.text() !== 'ssh-ed25519') return undefined
  const pub = section.string()
  const secret = section.string()
  if (pub.length !== 32 || secret.length !== 64 || !secret.subarray(32).equals(pub)) {
    throw new BadParameterError('OpenSSH ed25519 private key is corrupt (key sizes or halves do not match)')
  }
  const key = createPrivateKey({key: {kty: 'OKP', crv: 'Ed25519', d: secret.subarray(0, 32).toString('base64url'), x: pub.toString('base64url')}, format: 'jwk'})
  // node does not check that x belongs to d; a mismatched file would sign with a key nobody trusts.
  if (!blobFromKeyObject(createPublicKey(key)).equals(publicBlob)) throw new BadParameterError('OpenSSH private key is corrupt (public key does not match private key)')
  return key
}

/**
 * Loads a private key for signing: OpenSSH format (any type ssh-keygen makes, unencrypted) or
 * PEM PKCS#8 / PKCS#1 / SEC1. Encrypted keys are refused with a hint.
 */
export function loadPrivateKey(text: string): KeyObject {
  if (typeof text !== 'string' || !text.includes('-----BEGIN ')) throw new BadParameterError('not a PEM private key (expected "-----BEGIN OPENSSH PRIVATE KEY-----")')
  if (text.includes(PEM_BEGIN)) {
    const ed25519 = decodeOpenSshEd25519(text)
    if (ed25519) return ed25519
    // RSA / ECDSA in OpenSSH format: sshpk reads them and re-emits PKCS#8, which node understands.
    try {
      // Loaded only here: sshpk costs ~20 ms at start-up and Ed25519 keys never need it.
      const sshpk = createRequire(import.meta.url)('sshpk') as typeof import('sshpk')
      return createPrivateKey(sshpk.parsePrivateKey(text, 'ssh-private').toString('pkcs8'))
    } catch (err) {
      throw new BadParameterError(`cannot read OpenSSH private key: ${(err as Error).message}`, {cause: err})
    }
  }
  try {
    return createPrivateKey(text)
  } catch (err) {
    const hint = /passphrase/i.test((err as Error).message) ? ' (it is encrypted; remove the passphrase first)' : ''
    throw new BadParameterError(`cannot read private key${hint}: ${(err as Error).message}`, {cause: err})
  }
}

/** The authorized_keys line of a private key's public half (no comment). */
export function publicKeyFromPrivate(privateKey: string): string {
  return publicKeyLine(blobFromKeyObject(createPublicKey(loadPrivateKey(privateKey))))
}
