import {checkAccessToNode} from '../../services/rbac.js'
import type {ParsedCert} from '../../sshca/index.js'
import type {NodeContext} from './context.js'
import {lookupLogin, loginRefusal, type OsLogin} from './os-login.js'

// After the certificate itself checks out (CA, validity, login among the principals, source
// address: verifyUserCertAuth), may this user log in here as this login? RBAC against this
// node's own labels with the user's roles as auth has them now (deny first), then the OS account.
// Before all that: the user must still exist and no lock may target them, their roles or this node.

export type LoginDecision = {allowed: true; osLogin: OsLogin} | {allowed: false; reason: string}

export async function decideLogin(node: NodeContext, cert: ParsedCert, login: string): Promise<LoginDecision> {
  if (cert.roles.length === 0) return {allowed: false, reason: 'the certificate names no roles'}
  // A deleted user, a locked user, role or node: refused whatever the certificate says.
  let refused: string | undefined
  try {
    refused = await node.access.check({user: cert.keyId, roles: cert.roles, node: node.hostUuid})
  } catch (err) {
    return {allowed: false, reason: (err as Error).message}
  }
  if (refused) return {allowed: false, reason: refused}
  let roles
  try {
    roles = await node.roles.getRoles(cert.roles)
  } catch (err) {
    return {allowed: false, reason: `cannot read the user's roles from the auth server: ${(err as Error).message}`}
  }
  if (roles.length === 0) return {allowed: false, reason: `none of the user's roles (${cert.roles.join(', ')}) exist`}
  const decision = checkAccessToNode({roles, traits: cert.traits, login, nodeLabels: node.labels()})
  if (!decision.allowed) return {allowed: false, reason: decision.reason}
  let osLogin: OsLogin | undefined
  try {
    osLogin = await lookupLogin(login)
  } catch (err) {
    return {allowed: false, reason: (err as Error).message}
  }
  if (!osLogin) return {allowed: false, reason: `there is no OS user "${login}" on this node`}
  const refusal = loginRefusal(osLogin)
  if (refusal) return {allowed: false, reason: refusal}
  return {allowed: true, osLogin}
}
