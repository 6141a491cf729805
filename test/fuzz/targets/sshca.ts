import fc from 'fast-check'
import {deepStrictEqual} from 'node:assert'
import {createPrivateKey, generateKeyPairSync, type KeyObject} from 'node:crypto'
import {createRequire} from 'node:module'
import {
  fingerprint,
  generateKeyPair,
  loadPrivateKey,
  parseCert,
  parsePublicKeyLine,
  parseSourceAddressList,
  publicKeyFromPrivate,
  publicKeyObjectFromBlob,
  signHostCert,
  signUserCert,
  sourceAddressAllows,
  verifyCert,
} from '../../../src/sshca/index.js'
import {keyLines, mutatedBytes, oddText} from '../arbitraries.js'
import {target} from '../harness/target.js'

// Certificates, public keys and private keys: what nodes, proxies and the auth server read from
// the network (certificates offered at login, keys sent to be signed) and from files.

const NOW = new Date('2026-11-21T10:00:00Z')
const sshpk = createRequire(import.meta.url)('sshpk') as typeof import('sshpk')

const ca = generateKeyPair('ca')
const ed25519 = generateKeyPair('user')
const pem = (type: 'rsa' | 'ec', options: object): string => (generateKeyPairSync(type as 'rsa', options as never).privateKey as unknown as KeyObject).export({type: 'pkcs8', format: 'pem'}) as string
// 2048 bits: the CA refuses to certify smaller RSA keys.
const rsaPem = pem('rsa', {modulusLength: 2048})
const ecPems = ['prime256v1', 'secp384r1', 'secp521r1'].map((namedCurve) => pem('ec', {namedCurve}))
const opensshPem = (text: string) => sshpk.parsePrivateKey(text, 'pem').toString('ssh-private')
const privateKeys = [ed25519.privateKey, rsaPem, ...ecPems, opensshPem(rsaPem), opensshPem(ecPems[0]!), createPrivateKey(rsaPem).export({type: 'pkcs1', format: 'pem'}) as string]
const publicKeys = privateKeys.map(publicKeyFromPrivate)

const userCert = (publicKey: string) =>
  signUserCert({
    caPrivateKey: ca.privateKey,
    publicKey,
    keyId: 'alice',
    principals: ['alice', 'root'],
    ttlMs: 3_600_000,
    now: NOW,
    permitAgentForwarding: true,
    roles: ['access'],
    traits: {logins: ['alice']},
    routeToCluster: 'example.com',
    sourceAddress: ['10.0.0.0/8', '::1'],
  })
const certLines = [
  ...publicKeys.slice(0, 3).map(userCert),
  signHostCert({caPrivateKey: ca.privateKey, publicKey: ed25519.publicKey, keyId: 'host-1', principals: ['node-1'], role: 'Node', authority: 'example.com', now: NOW}),
]
const blobOf = (line: string) => parsePublicKeyLine(line).blob
const certBlobs = mutatedBytes(certLines.map(blobOf))
const keyBlobs = mutatedBytes(publicKeys.map(blobOf))
const certTypes = ['ssh-ed25519-cert-v01@openssh.com', 'ssh-rsa-cert-v01@openssh.com', 'ecdsa-sha2-nistp256-cert-v01@openssh.com', 'ssh-ed25519', 'ssh-dss-cert-v01@openssh.com']
const keyTypes = ['ssh-ed25519', 'ssh-rsa', 'ecdsa-sha2-nistp256', 'ecdsa-sha2-nistp384', 'ecdsa-sha2-nistp521', 'ssh-ed25519-cert-v01@openssh.com', 'sk-ssh-ed25519@openssh.com']

/** Parses and verifies as a node would: structure, then trust, validity and the client address. */
function checkCert(input: string | Buffer): void {
  parseCert(input)
  verifyCert(input, {trustedCAs: [ca.publicKey], type: 'user', principal: 'alice', now: NOW, clientAddress: '10.1.2.3'})
}

/** A PEM with its base64 body mutated as bytes. */
const mutatedPems = fc.tuple(fc.nat({max: privateKeys.length - 1}), fc.array(fc.nat(), {maxLength: 3})).chain(([i]) => {
  const text = privateKeys[i]!
  const lines = text.trim().split('\n')
  const body = Buffer.from(lines.slice(1, -1).join(''), 'base64')
  return fc.oneof(
    {weight: 4, arbitrary: mutatedBytes([body]).map((b) => `${lines[0]}\n${b.toString('base64').replace(/.{1,70}/g, '$&\n')}${lines.at(-1)}\n`)},
    {weight: 1, arbitrary: fc.tuple(fc.nat(), oddText).map(([at, junk]) => text.slice(0, at % text.length) + junk + text.slice(at % text.length))},
  )
})

const printable = fc.string({unit: 'grapheme', minLength: 1, maxLength: 20})

export const SSHCA_TARGETS = [
  target({name: 'cert-blob', arbitrary: certBlobs, run: checkCert}),
  target({name: 'cert-line', arbitrary: fc.oneof(keyLines(certBlobs, certTypes), oddText), run: checkCert}),
  target({
    name: 'public-key-line',
    arbitrary: fc.oneof(keyLines(keyBlobs, keyTypes), oddText),
    run: (line: string) => {
      const {blob} = parsePublicKeyLine(line)
      publicKeyObjectFromBlob(blob)
      fingerprint(line)
    },
  }),
  target({name: 'private-key', arbitrary: mutatedPems, run: (text: string) => publicKeyFromPrivate(text) && loadPrivateKey(text), testRuns: 500}),
  target({
    name: 'source-address',
    arbitrary: fc.tuple(
      fc.oneof(fc.array(fc.oneof(fc.ipV4(), fc.ipV6(), fc.tuple(fc.oneof(fc.ipV4(), fc.ipV6()), fc.integer({min: -1, max: 200})).map(([a, p]) => `${a}/${p}`), oddText), {maxLength: 4}).map((a) => a.join(',')), oddText),
      fc.oneof(fc.ipV4(), fc.ipV6(), fc.ipV4().map((a) => `::ffff:${a}`), oddText),
    ),
    run: ([value, client]: [string, string]) => {
      parseSourceAddressList(value)
      sourceAddressAllows(value, client)
    },
  }),
  target({
    name: 'cert-roundtrip',
    arbitrary: fc.record({
      keyId: printable,
      principals: fc.array(printable, {minLength: 1, maxLength: 4}),
      roles: fc.array(fc.string(), {maxLength: 3}),
      traits: fc.dictionary(fc.string({maxLength: 8}), fc.array(fc.string(), {maxLength: 3}), {maxKeys: 3}),
      routeToCluster: fc.string(),
      key: fc.nat({max: publicKeys.length - 1}),
    }),
    run: (r: {keyId: string; principals: string[]; roles: string[]; traits: Record<string, string[]>; routeToCluster: string; key: number}) => {
      const line = signUserCert({caPrivateKey: ca.privateKey, publicKey: publicKeys[r.key]!, keyId: r.keyId, principals: r.principals, ttlMs: 60_000, now: NOW, roles: r.roles, traits: r.traits, routeToCluster: r.routeToCluster})
      const cert = verifyCert(line, {trustedCAs: [ca.publicKey], type: 'user', now: NOW})
      deepStrictEqual(
        {keyId: cert.keyId, principals: cert.principals, roles: cert.roles, traits: cert.traits, routeToCluster: cert.routeToCluster, key: cert.publicKey},
        {keyId: r.keyId, principals: r.principals, roles: r.roles, traits: {...r.traits}, routeToCluster: r.routeToCluster, key: publicKeys[r.key]!.split(' ').slice(0, 2).join(' ')},
      )
    },
    refusals: [],
    testRuns: 500,
  }),
]
