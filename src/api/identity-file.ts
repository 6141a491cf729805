import {writeFileAtomic} from '../lib/atomic-write.js'
import {BadParameterError} from '../lib/errors.js'
import {readTextFile} from '../lib/file-errors.js'
import {parseCert, type ParsedCert} from '../sshca/index.js'

// An identity file: a private key, its certificate, and the host CAs to trust, in one file
// (the layout Teleport's `tctl auth sign --format=file` uses):
//
//   -----BEGIN OPENSSH PRIVATE KEY-----
//   ...
//   -----END OPENSSH PRIVATE KEY-----
//   ssh-ed25519-cert-v01@openssh.com AAAA...
//   @cert-authority * ssh-ed25519 AAAA... type=host
//
// tctl's admin identity in the data dir, hosts' own credentials, and `tctl --identity` all use it.

export interface Identity {
  privateKey: string
  certificate: string
  /** Host CA public key lines ("ssh-ed25519 AAAA..."). */
  hostCAs: string[]
}

const KEY_BLOCK = /-----BEGIN OPENSSH PRIVATE KEY-----[\s\S]+?-----END OPENSSH PRIVATE KEY-----\n?/

export function formatIdentity(identity: Identity): string {
  const key = identity.privateKey.endsWith('\n') ? identity.privateKey : identity.privateKey + '\n'
  const cas = identity.hostCAs.map((ca) => `@cert-authority * ${ca.trim().split(/\s+/).slice(0, 2).join(' ')} type=host`)
  return [key + identity.certificate.trim(), ...cas].join('\n') + '\n'
}

export function parseIdentity(text: string, source: string): Identity & {cert: ParsedCert} {
  const key = text.match(KEY_BLOCK)
  if (!key) throw new BadParameterError(`${source}: no OpenSSH private key in the identity file`)
  const rest = text.replace(KEY_BLOCK, '').split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('#'))
  const certLine = rest.find((l) => /^[a-z0-9-]+-cert-v01@openssh\.com /.test(l))
  if (!certLine) throw new BadParameterError(`${source}: no certificate in the identity file`)
  let cert: ParsedCert
  try {
    cert = parseCert(certLine)
  } catch (err) {
    throw new BadParameterError(`${source}: unreadable certificate: ${(err as Error).message}`)
  }
  const hostCAs = rest.filter((l) => l.startsWith('@cert-authority ')).map((l) => l.split(/\s+/).slice(2, 4).join(' '))
  return {privateKey: key[0].trim() + '\n', certificate: certLine, hostCAs, cert}
}

export function readIdentityFile(file: string): Identity & {cert: ParsedCert} {
  return parseIdentity(readTextFile(file, {noun: 'identity file', hints: {denied: 'run as the user that owns it (often root)'}}), file)
}

export function writeIdentityFile(file: string, identity: Identity): void {
  writeFileAtomic(file, formatIdentity(identity))
}
