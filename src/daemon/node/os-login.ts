import {execFile} from 'node:child_process'
import {existsSync} from 'node:fs'
import {userInfo} from 'node:os'

// The OS account a session runs as: looked up through NSS (getent), so LDAP/sssd users work as
// they do for sshd. A node not running as root can only start sessions as its own user.

export interface OsLogin {
  name: string
  uid: number
  gid: number
  home: string
  shell: string
}

/** Lookups running now, by login: a burst of logins as one user runs one getent, not hundreds. */
const lookups = new Map<string, Promise<OsLogin | undefined>>()

/** The passwd entry of `login`, or undefined when there is no such user. */
export function lookupLogin(login: string): Promise<OsLogin | undefined> {
  // A login is a principal from a verified certificate, but still: no option injection into getent.
  if (login === '' || login.startsWith('-') || /[\s:/\u0000-\u001f]/.test(login)) return Promise.resolve(undefined)
  let running = lookups.get(login)
  if (!running) {
    running = getentPasswd(login).finally(() => lookups.delete(login))
    lookups.set(login, running)
  }
  // Each caller its own copy: a session must not see another's changes.
  return running.then((entry) => entry && {...entry})
}

function getentPasswd(login: string): Promise<OsLogin | undefined> {
  return new Promise((resolve, reject) => {
    execFile('getent', ['passwd', login], {timeout: 10_000}, (err, stdout) => {
      // getent exits 2 when the key is not found.
      if (err && (err as {code?: unknown}).code === 2) return resolve(undefined)
      if (err) return reject(new Error(`cannot look up user "${login}": ${err.message}`))
      resolve(parsePasswdLine(stdout.split('\n')[0] ?? ''))
    })
  })
}

export function parsePasswdLine(line: string): OsLogin | undefined {
  const fields = line.trim().split(':')
  if (fields.length < 7) return undefined
  const [name, , uid, gid, , home, shell] = fields as [string, string, string, string, string, string, string]
  if (!/^\d+$/.test(uid) || !/^\d+$/.test(gid)) return undefined
  return {name, uid: Number(uid), gid: Number(gid), home: home || '/', shell: shell || '/bin/sh'}
}

/** The user this process runs as. */
export function processUser(): {name: string; uid: number} {
  const info = userInfo()
  return {name: info.username, uid: info.uid}
}

export function isRoot(): boolean {
  return process.getuid?.() === 0
}

/** Why this process cannot start a session as `login`, or undefined when it can. */
export function loginRefusal(login: OsLogin): string | undefined {
  if (isRoot()) return undefined
  const self = processUser()
  if (login.uid === self.uid) return undefined
  return `this node is not running as root and can only start sessions as its own user "${self.name}", not "${login.name}"`
}

/** The directory a session starts in: the home directory, or / when it does not exist. */
export function sessionCwd(login: OsLogin): string {
  return existsSync(login.home) ? login.home : '/'
}

/** PATH as OpenSSH's sshd sets it (Debian's build). */
export function defaultPath(login: OsLogin): string {
  return login.uid === 0 ? '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' : '/usr/local/bin:/usr/bin:/bin:/usr/games'
}
