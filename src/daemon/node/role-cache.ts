import type {AuthApi} from '../../client/auth-api.js'
import {NotFoundError} from '../../lib/errors.js'
import type {Role} from '../../services/roles.js'

// The role definitions behind the role names in users' certificates, fetched from auth and kept
// briefly so that a burst of connections costs one request, while an edited or deleted role takes
// effect within FRESH_MS. When auth cannot be reached, a definition up to STALE_MS old still
// serves (nodes keep working through an auth outage); older than that, access is refused.

const FRESH_MS = 10_000
const STALE_MS = 10 * 60_000

interface Entry {
  /** undefined: the role does not exist. */
  role: Role | undefined
  fetchedAt: number
}

export class RoleCache {
  private readonly entries = new Map<string, Entry>()
  private readonly inflight = new Map<string, Promise<Role | undefined>>()

  constructor(
    private readonly api: AuthApi,
    private readonly now: () => number = Date.now,
  ) {}

  /** The roles that exist among `names` (unknown names are left out). Throws when auth is unreachable and nothing usable is cached. */
  async getRoles(names: readonly string[]): Promise<Role[]> {
    const roles = await Promise.all(names.map((name) => this.get(name)))
    return roles.filter((r): r is Role => r !== undefined)
  }

  private async get(name: string): Promise<Role | undefined> {
    const entry = this.entries.get(name)
    const age = entry ? this.now() - entry.fetchedAt : Infinity
    if (entry && age < FRESH_MS) return entry.role
    let pending = this.inflight.get(name)
    if (!pending) {
      pending = this.fetch(name)
      this.inflight.set(name, pending)
      void pending.finally(() => this.inflight.delete(name)).catch(() => {})
    }
    try {
      return await pending
    } catch (err) {
      if (entry && age < STALE_MS) return entry.role
      throw err
    }
  }

  private async fetch(name: string): Promise<Role | undefined> {
    let role: Role | undefined
    try {
      role = await this.api.getRole(name)
    } catch (err) {
      if (!(err instanceof NotFoundError)) throw err
      role = undefined
    }
    this.entries.set(name, {role, fetchedAt: this.now()})
    return role
  }
}
