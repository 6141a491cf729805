// Typings for what patches/ssh2+1.17.0.patch adds to ssh2 1.17.0 (OpenSSH certificates), and the
// certificate algorithm names. @types/ssh2 knows none of it.
//
// What the patch adds, in ssh2 terms:
//   - client `connect({privateKey, certificate})` and authHandler `{type: 'publickey', key,
//     certificate}`: authenticate with a user certificate; ssh2 refuses a certificate whose
//     embedded key is not the private key's public key.
//   - server `hostKeys: [{key, certificate}]`: the certificate is offered under its algorithm
//     name(s) beside the plain key, which stays on offer for clients that do not ask for it.
//   - `algorithms.serverHostKey` accepts the certificate names below (never offered by default);
//     `hostVerifier` then receives the whole certificate blob.
//   - keys parsed by `ssh2.utils.parseKey` from certificate lines or blobs (agent identities, a
//     server's K_S) keep the certificate as their wire form and verify with the embedded key.
//   - server 'authentication' contexts for certificates: `ctx.key.algo` is the certificate type
//     ("ssh-ed25519-cert-v01@openssh.com", "ssh-rsa-cert-v01@openssh.com" with `ctx.hashAlgo`
//     set for rsa-sha2-*), `ctx.key.data` the certificate, `ctx.signature` the bare signature.
//     Checking the certificate itself is ours: src/ssh/user-cert-auth.ts.

import type {Algorithms, ConnectConfig} from 'ssh2'

declare module 'ssh2' {
  interface ConnectConfig {
    /** OpenSSH user certificate (text line or wire blob) for `privateKey`. Added by our ssh2 patch. */
    certificate?: Buffer | string
  }
  interface PublicKeyAuthMethod {
    /** OpenSSH user certificate for `key`. Added by our ssh2 patch. */
    certificate?: Buffer | string
  }
  interface EncryptedPrivateKey {
    /** OpenSSH host certificate for `key`, presented to clients that ask for it. Added by our ssh2 patch. */
    certificate?: Buffer | string
  }
}

export const CERT_SUFFIX = '-cert-v01@openssh.com'

/** Host key algorithms for certificates, most preferred first (what OpenSSH 9 offers, minus SHA-1). */
export const CERT_HOST_KEY_ALGORITHMS = [
  'ssh-ed25519-cert-v01@openssh.com',
  'ecdsa-sha2-nistp256-cert-v01@openssh.com',
  'ecdsa-sha2-nistp384-cert-v01@openssh.com',
  'ecdsa-sha2-nistp521-cert-v01@openssh.com',
  'rsa-sha2-512-cert-v01@openssh.com',
  'rsa-sha2-256-cert-v01@openssh.com',
] as const

/** Plain host key algorithms, most preferred first; SHA-1 "ssh-rsa" and "ssh-dss" left out. */
export const PLAIN_HOST_KEY_ALGORITHMS = [
  'ssh-ed25519',
  'ecdsa-sha2-nistp256',
  'ecdsa-sha2-nistp384',
  'ecdsa-sha2-nistp521',
  'rsa-sha2-512',
  'rsa-sha2-256',
] as const

export type HostKeyAlgorithm = (typeof CERT_HOST_KEY_ALGORITHMS)[number] | (typeof PLAIN_HOST_KEY_ALGORITHMS)[number]

export function isCertAlgorithm(name: string): boolean {
  return name.endsWith(CERT_SUFFIX)
}

/**
 * `algorithms` for a client config with a host key list that may name certificate algorithms:
 * @types/ssh2's union lacks them, ssh2 (patched) accepts them.
 */
export function withHostKeyAlgorithms(serverHostKey: readonly string[], algorithms: Algorithms = {}): Algorithms {
  return {...algorithms, serverHostKey: [...serverHostKey] as NonNullable<Algorithms['serverHostKey']>}
}

export type {ConnectConfig}
