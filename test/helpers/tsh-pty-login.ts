import assert from 'node:assert/strict'
import path from 'node:path'
import {Agent} from 'undici'
import type {AuthApi} from '../../src/api/auth-api.js'
import {generateTotpCode} from '../../src/services/totp.js'
import {repoRoot, tctlOk} from './cli.js'
import {acceptUserToken, webCaller} from './invite-page.js'
import {inPty} from './pty.js'

// A new user as a person makes one: invited (through the auth API, or with the real tctl), the
// invite redeemed with a password (and a TOTP code where the cluster asks for one), then the real
// bin/tsh login in a pty against the proxy's web port.

const TSH = path.join(repoRoot, 'bin', 'tsh')

/** tsh's environment for a user whose HOME is `home` (TELEPORT_HOME <home>/.tsh): the machine's TELEPORT_* and agent left out. */
export function tshEnv(home: string): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {...process.env, HOME: home, TELEPORT_HOME: path.join(home, '.tsh'), NO_COLOR: '1', TERM: 'xterm', TELEPORT_CONFIG_FILE: ''}
  for (const name of ['TELEPORT_PROXY', 'TELEPORT_USER', 'TELEPORT_CLUSTER', 'TELEPORT_ADD_KEYS_TO_AGENT', 'SSH_AUTH_SOCK']) delete env[name]
  return env
}

/**
 * On a cluster without a second factor: `tctl users add` with the config at `config`, the invite
 * page given the password, then `tsh login` in a pty with `env`.
 */
export async function tctlInviteAndLogIn(config: string, options: {user: string; login: string; password: string; webPort: number; env: NodeJS.ProcessEnv}): Promise<void> {
  const {user, password, webPort} = options
  const added = tctlOk(config, 'users', 'add', user, '--roles=access', `--logins=${options.login}`)
  const url = /https:\/\/\S+\/web\/invite\/[0-9a-f]{32}/.exec(added)?.[0]
  assert.ok(url, added)
  await acceptUserToken(webCaller(url, new Agent({connect: {rejectUnauthorized: false}})), url, password, {otp: false})
  const term = inPty(TSH, ['login', `--proxy=localhost:${webPort}`, `--user=${user}`, '--insecure'], options.env)
  await term.waitFor(/[Pp]assword/)
  term.write(`${password}\r`)
  assert.equal(await term.exit, 0, term.output())
}

export interface PtyLogin {
  user: string
  login: string
  password: string
  webPort: number
  /** HOME for tsh; TELEPORT_HOME is <home>/.tsh. */
  home: string
}

/** Returns the environment tsh then runs in (the machine's TELEPORT_* and agent left out). */
export async function inviteAndLogIn(admin: Pick<AuthApi, 'createUser' | 'getUserToken' | 'redeemUserToken'>, options: PtyLogin): Promise<NodeJS.ProcessEnv> {
  const {user, password, webPort, home} = options
  const {invite} = await admin.createUser({name: user, roles: ['access'], traits: {logins: [options.login]}})
  const token = await admin.getUserToken(invite.token)
  await admin.redeemUserToken({token: invite.token, password, otpCode: generateTotpCode(token.totp.secret, Date.now())})
  const env = tshEnv(home)
  const term = inPty(TSH, ['login', `--proxy=127.0.0.1:${webPort}`, `--user=${user}`, '--insecure', '--add-keys-to-agent=no'], env)
  await term.waitFor(new RegExp(`Enter password for Teleport user ${user}:`))
  term.write(`${password}\r`)
  await term.waitFor(/Enter your OTP token:/)
  // A code is good once: the invite used this step's, the login takes the next one.
  term.write(`${generateTotpCode(token.totp.secret, Date.now() + 30_000)}\r`)
  assert.equal(await term.exit, 0, term.output())
  return env
}
