import fc from 'fast-check'
import {checkCertResponse} from '../../../src/client/login.js'
import {checkPing, sshProxyAddrFromPing} from '../../../src/client/web-client.js'
import {generateKeyPair, signUserCert} from '../../../src/sshca/index.js'
import {jsonBodies, oddText} from '../arbitraries.js'
import {target} from '../harness/target.js'

// What `tsh login` reads from the proxy's web API (a proxy, or whoever answers at its address
// before the certificate is pinned): the ping and the login answer.

const NOW = new Date('2026-11-21T10:00:00Z')
const ca = generateKeyPair('ca')
const user = generateKeyPair('user')
const cert = signUserCert({caPrivateKey: ca.privateKey, publicKey: user.publicKey, keyId: 'alice', principals: ['alice'], ttlMs: 60_000, now: NOW, roles: [], traits: {}, routeToCluster: 'example.com'})

const anything = fc.oneof(fc.string(), fc.integer(), fc.boolean(), fc.constant(null), fc.array(fc.string(), {maxLength: 2}), fc.constant({}))
const addr = fc.oneof(fc.constantFrom('0.0.0.0:3023', 'ssh.example.com:443', '[::1]:22', ':3023', 'https://x/y', '', ' '), oddText, anything)
const pings = jsonBodies({
  cluster_name: fc.oneof(fc.constant('example.com'), anything),
  auth: fc.oneof(fc.constant({type: 'local', second_factor: 'otp'}), anything),
  proxy: fc.oneof(fc.record({ssh: fc.oneof(fc.record({listen_addr: addr, public_addr: addr}, {requiredKeys: []}), anything)}), anything),
  server_version: anything,
})
const signers = fc.oneof(fc.array(fc.oneof(fc.record({domain_name: anything, checking_keys: fc.oneof(fc.array(fc.oneof(fc.constant(ca.publicKey), anything), {maxLength: 3}), anything)}, {requiredKeys: []}), anything), {maxLength: 3}), anything)
const loginAnswers = fc.record({cert: fc.oneof(fc.constant(cert), oddText, anything), host_signers: signers})

export const PROXY_ANSWER_TARGETS = [
  target({
    name: 'proxy-ping-answer',
    arbitrary: pings,
    run: (text: string) => {
      let body: unknown
      try {
        body = JSON.parse(text)
      } catch {
        return // WebClient refuses non-JSON before this point
      }
      sshProxyAddrFromPing(checkPing(body, 'https://proxy.example.com:3080'), 'proxy.example.com:3080')
    },
  }),
  target({
    name: 'proxy-login-answer',
    arbitrary: loginAnswers,
    run: (answer: {cert: unknown; host_signers: unknown}) => {
      // WebClient.createSshCert lets through only a string cert and a list of signers.
      if (typeof answer.cert !== 'string' || !Array.isArray(answer.host_signers)) return
      checkCertResponse(answer.cert, answer.host_signers, user.publicKey)
    },
  }),
]
