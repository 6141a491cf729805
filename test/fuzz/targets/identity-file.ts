import fc from 'fast-check'
import {deepStrictEqual} from 'node:assert'
import {formatIdentity, parseIdentity} from '../../../src/api/identity-file.js'
import {certAuthorityLines, hostCAsOf, mergeKnownHosts} from '../../../src/client/known-hosts.js'
import {generateKeyPair, signUserCert} from '../../../src/sshca/index.js'
import {oddText} from '../arbitraries.js'
import {target} from '../harness/target.js'

// Identity files (`tctl auth sign`, `tctl --identity`, hosts' credentials) and ~/.tsh/known_hosts.

const NOW = new Date('2026-11-21T10:00:00Z')
const ca = generateKeyPair('ca')
const user = generateKeyPair('user')
const certificate = signUserCert({caPrivateKey: ca.privateKey, publicKey: user.publicKey, keyId: 'alice', principals: ['alice'], ttlMs: 60_000, now: NOW, roles: [], traits: {}, routeToCluster: 'example.com'})
const identityText = formatIdentity({privateKey: user.privateKey, certificate, hostCAs: [ca.publicKey]})
const identityLines = identityText.split('\n')

/** The identity file with lines dropped, repeated, swapped or edited. */
const identityFiles = fc.array(fc.oneof(fc.constantFrom(...identityLines), oddText, fc.tuple(fc.constantFrom(...identityLines), fc.nat(), oddText).map(([l, at, junk]) => l.slice(0, at % (l.length + 1)) + junk + l.slice(at % (l.length + 1)))), {maxLength: 14}).map((l) => l.join('\n'))

const caKey = fc.constantFrom(ca.publicKey, user.publicKey, 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIB5Dz3pRdKsN8dvw0HDjQD0GRPvYZmXwxJM0oFUDLrdh')
const knownHostsLines = fc.array(fc.oneof(fc.tuple(fc.domain(), caKey).map(([d, k]) => certAuthorityLines(d, d, [k])[0]!), fc.constantFrom('@cert-authority', '@cert-authority * x', '@revoked * ssh-ed25519 AAAA', '# comment', ''), oddText), {maxLength: 6}).map((l) => l.join('\n'))

export const IDENTITY_TARGETS = [
  target({name: 'identity-file', arbitrary: fc.oneof(identityFiles, fc.constant(identityText)), run: (text: string) => parseIdentity(text, 'identity')}),
  target({
    name: 'identity-file-roundtrip',
    arbitrary: fc.array(caKey, {maxLength: 3}),
    run: (hostCAs: string[]) => {
      const parsed = parseIdentity(formatIdentity({privateKey: user.privateKey, certificate, hostCAs}), 'identity')
      deepStrictEqual([parsed.privateKey, parsed.certificate, parsed.hostCAs], [user.privateKey, certificate, hostCAs.map((k) => k.split(' ').slice(0, 2).join(' '))])
    },
    refusals: [],
  }),
  target({
    name: 'known-hosts-merge',
    arbitrary: fc.tuple(knownHostsLines, fc.domain(), fc.domain(), fc.array(caKey, {minLength: 1, maxLength: 3})),
    run: ([existing, proxyHost, cluster, keys]: [string, string, string, string[]]) => {
      hostCAsOf(existing, cluster)
      const merged = mergeKnownHosts(existing, proxyHost, cluster, keys)
      deepStrictEqual(hostCAsOf(merged, cluster), [...new Set(keys.map((k) => k.split(' ').slice(0, 2).join(' ')))])
    },
    refusals: [],
  }),
]
