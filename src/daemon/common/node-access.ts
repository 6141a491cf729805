import {checkAccessToNode} from '../../services/rbac.js'
import type {ParsedCert} from '../../sshca/index.js'
import type {AccessCache} from './access-cache.js'
import type {RoleCache} from './role-cache.js'

// May this certificate's user log in to this node as this login? What a node decides for itself,
// and what a recording proxy decides for the node it stands in for (it terminates the session, so
// it checks as the node would): the user must still exist and no lock may target them, their
// roles or the node; then RBAC against the node's labels with the roles as auth has them now.
// The certificate itself (CA, validity, login among the principals) is checked before.

export interface NodeAccessDeps {
  access: AccessCache
  roles: RoleCache
}

/** Undefined: allowed; otherwise why not (for the audit log, never for the client). */
export async function nodeLoginRefusal(deps: NodeAccessDeps, cert: ParsedCert, login: string, node: {id: string; labels: Record<string, string>}): Promise<string | undefined> {
  if (cert.roles.length === 0) return 'the certificate names no roles'
  let refused: string | undefined
  try {
    refused = await deps.access.check({user: cert.keyId, roles: cert.roles, node: node.id})
  } catch (err) {
    return (err as Error).message
  }
  if (refused) return refused
  let roles
  try {
    roles = await deps.roles.getRoles(cert.roles)
  } catch (err) {
    return `cannot read the user's roles from the auth server: ${(err as Error).message}`
  }
  if (roles.length === 0) return `none of the user's roles (${cert.roles.join(', ')}) exist`
  const decision = checkAccessToNode({roles, traits: cert.traits, login, nodeLabels: node.labels})
  return decision.allowed ? undefined : decision.reason
}
