// Shared fixtures for the sshca tests: a fixed clock, temp dirs, and the real ssh-keygen.

import {execFileSync, spawnSync} from 'node:child_process'
import {mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import type {TestContext} from 'node:test'
import type {UserCertRequest} from '../../../src/sshca/index.js'

/** Every test uses this instant, never the wall clock. */
export const NOW = new Date('2026-11-21T10:00:00Z')

export const SSH_KEYGEN = '/usr/bin/ssh-keygen'

/** A fresh directory removed when the test ends. */
export function tempDir(t: TestContext): string {
  const dir = mkdtempSync(join(tmpdir(), 'sshca-test-'))
  t.after(() => rmSync(dir, {recursive: true, force: true}))
  return dir
}

/** Runs ssh-keygen in UTC (it prints validity in local time) and returns stdout; throws on failure. */
export function sshKeygen(args: string[]): string {
  return execFileSync(SSH_KEYGEN, args, {encoding: 'utf8', env: {...process.env, TZ: 'UTC'}, stdio: ['ignore', 'pipe', 'pipe']})
}

/** Like sshKeygen but reports failure instead of throwing. */
export function sshKeygenStatus(args: string[]): {status: number | null; stdout: string; stderr: string} {
  const r = spawnSync(SSH_KEYGEN, args, {encoding: 'utf8', env: {...process.env, TZ: 'UTC'}})
  return {status: r.status, stdout: r.stdout, stderr: r.stderr}
}

/** Writes a file with private-key permissions (ssh-keygen refuses readable private keys). */
export function writePrivate(path: string, text: string): string {
  writeFileSync(path, text, {mode: 0o600})
  return path
}

/** ssh-keygen -t TYPE with no passphrase; returns the private key path (public is path + ".pub"). */
export function keygen(dir: string, name: string, type: 'ed25519' | 'rsa' | 'ecdsa' = 'ed25519', extra: string[] = []): string {
  const path = join(dir, name)
  sshKeygen(['-q', '-t', type, '-N', '', '-C', name, '-f', path, ...extra])
  return path
}

/** "2026-11-21T10:00:00Z" -> "20261121100000" for ssh-keygen -V (read as UTC under TZ=UTC). */
export function keygenTime(date: Date): string {
  return date.toISOString().replace(/[-:T]/g, '').slice(0, 14)
}

/** A user certificate request with every field set (tests override what they vary). */
export function fullUserRequest(caPrivateKey: string, publicKey: string, overrides: Partial<UserCertRequest> = {}): UserCertRequest {
  return {
    caPrivateKey,
    publicKey,
    keyId: 'alice',
    principals: ['alice', 'root'],
    ttlMs: 12 * 3600_000,
    now: NOW,
    serial: 12345678901234567890n,
    permitAgentForwarding: true,
    permitPortForwarding: true,
    permitX11Forwarding: true,
    roles: ['access', 'auditor'],
    traits: {logins: ['alice', 'root']},
    routeToCluster: 'example.com',
    sourceAddress: ['192.168.0.0/16', '10.1.2.3'],
    ...overrides,
  }
}
