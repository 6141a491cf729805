import {existsSync} from 'node:fs'
import {readIdentityFile, writeIdentityFile, type Identity} from '../../api/identity-file.js'
import {generateKeyPair, verifyCert, type ParsedCert} from '../../sshca/index.js'

// An identity kept in the data dir: reused while a current host CA vouches for it and it still
// fits (role, principals); otherwise a new key is made here and a certificate issued for it.

export interface EnsureHostIdentityOptions {
  hostCAs: string[]
  now?: Date
  /** Extra conditions on a kept certificate (its role, its principals). */
  fits?: (cert: ParsedCert) => boolean
  issue: (publicKey: string) => Promise<string>
}

export async function ensureHostIdentity(file: string, options: EnsureHostIdentityOptions): Promise<Identity> {
  if (existsSync(file)) {
    try {
      const kept = readIdentityFile(file)
      const cert = verifyCert(kept.cert, {type: 'host', trustedCAs: options.hostCAs, ...(options.now ? {now: options.now} : {})})
      if (sameKeys(kept.hostCAs, options.hostCAs) && (options.fits?.(cert) ?? true)) return kept
    } catch {
      // unreadable, foreign or outdated: replaced below
    }
  }
  const key = generateKeyPair()
  const identity: Identity = {privateKey: key.privateKey, certificate: await options.issue(key.publicKey), hostCAs: options.hostCAs}
  writeIdentityFile(file, identity)
  return identity
}

/** Key lines compared by type and key only: comments differ between the store and the files. */
export function sameKeys(a: string[], b: string[]): boolean {
  const norm = (keys: string[]) => keys.map((k) => k.trim().split(/\s+/).slice(0, 2).join(' ')).sort().join('\n')
  return norm(a) === norm(b)
}
