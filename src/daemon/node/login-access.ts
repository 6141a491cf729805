import type {LoginDecision} from '../../ssh/cert-login.js'
import type {ParsedCert} from '../../sshca/index.js'
import {nodeLoginRefusal} from '../common/node-access.js'
import type {NodeContext} from './context.js'
import {lookupLogin, loginRefusal, type OsLogin} from './os-login.js'

// After the certificate itself checks out (CA, validity, login among the principals, source
// address: verifyUserCertAuth), may this user log in here as this login? The cluster's rules
// (node-access.ts: the user exists, no lock, RBAC against this node's own labels), then the OS account.

export async function decideLogin(node: NodeContext, cert: ParsedCert, login: string): Promise<LoginDecision<OsLogin>> {
  const refused = await nodeLoginRefusal(node, cert, login, {id: node.hostUuid, labels: node.labels()})
  if (refused) return {allowed: false, reason: refused}
  let osLogin: OsLogin | undefined
  try {
    osLogin = await lookupLogin(login)
  } catch (err) {
    return {allowed: false, reason: (err as Error).message}
  }
  if (!osLogin) return {allowed: false, reason: `there is no OS user "${login}" on this node`}
  const refusal = loginRefusal(osLogin)
  if (refusal) return {allowed: false, reason: refusal}
  return {allowed: true, grant: osLogin}
}
