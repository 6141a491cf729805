// SSH with OpenSSH certificates on ssh2 (patched: patches/ssh2+1.17.0.patch).
//   client-auth:        connect options for a user certificate + key, or an ssh-agent
//   host-cert-verifier: a client's trust in a server's host certificate
//   user-cert-auth:     a server's check of a client's user certificate and signature
//   host-keys:          a server's host key + host certificate
//   auth-attempts:      which refused authentication attempts a server audits (node, proxy, auth API)
//   close-before-ready: a client's connect fails, rather than waits for ever, when the server closes mid-handshake

export {certAuthOptions, agentAuthOptions, CertificateOnlyAgent, type CertAuthInput, type CertAuthOptions, type AgentAuthInput, type AgentAuthOptions} from './client-auth.js'
export {hostCertVerifier, HostCertVerifier, UnknownHostKeyError, type HostCertVerifierOptions, type HostKeyRefusal} from './host-cert-verifier.js'
export {verifyUserCertAuth, type PublicKeyAuthAttempt, type UserCertAuthOptions, type UserCertAuthResult} from './user-cert-auth.js'
export {certifiedHostKey, type CertifiedHostKey, type CertifiedHostKeyInput} from './host-keys.js'
export {CERT_HOST_KEY_ALGORITHMS, PLAIN_HOST_KEY_ALGORITHMS, CERT_SUFFIX, isCertAlgorithm, withHostKeyAlgorithms, type HostKeyAlgorithm} from './ssh2-types.js'
export {AuthAttempts, type AuthRefusal} from './auth-attempts.js'
export {failOnCloseBeforeReady} from './close-before-ready.js'
export {hangUp} from './hang-up.js'
