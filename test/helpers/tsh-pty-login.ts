import assert from 'node:assert/strict'
import path from 'node:path'
import type {AuthApi} from '../../src/api/auth-api.js'
import {generateTotpCode} from '../../src/services/totp.js'
import {repoRoot} from './cli.js'
import {inPty} from './pty.js'

// A new user as a person makes one: invited through the auth API, the invite redeemed with a
// password and a TOTP code, then the real bin/tsh login in a pty against the proxy's web port.

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
  const env: NodeJS.ProcessEnv = {...process.env, HOME: home, TELEPORT_HOME: path.join(home, '.tsh'), NO_COLOR: '1', TERM: 'xterm'}
  for (const name of ['TELEPORT_PROXY', 'TELEPORT_USER', 'TELEPORT_CLUSTER', 'TELEPORT_ADD_KEYS_TO_AGENT', 'SSH_AUTH_SOCK']) delete env[name]
  const term = inPty(path.join(repoRoot, 'bin', 'tsh'), ['login', `--proxy=127.0.0.1:${webPort}`, `--user=${user}`, '--insecure', '--add-keys-to-agent=no'], env)
  await term.waitFor(new RegExp(`Enter password for Teleport user ${user}:`))
  term.write(`${password}\r`)
  await term.waitFor(/Enter your OTP token:/)
  // A code is good once: the invite used this step's, the login takes the next one.
  term.write(`${generateTotpCode(token.totp.secret, Date.now() + 30_000)}\r`)
  assert.equal(await term.exit, 0, term.output())
  return env
}
