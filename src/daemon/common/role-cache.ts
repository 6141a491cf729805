import type {AuthApi} from '../../api/auth-api.js'
import type {Clock} from '../../lib/clock.js'
import {unlessNotFound} from '../../lib/errors.js'
import type {Logger} from '../../lib/log.js'
import type {Role} from '../../services/roles.js'
import {LastGood} from './last-good.js'

// The role definitions behind the role names in users' certificates, fetched from auth and kept
// briefly so that a burst of connections costs one request, while an edited or deleted role takes
// effect within FRESH_MS. While auth is unreachable the last definition serves for a bounded time
// (last-good.ts); past that, access is refused.

const FRESH_MS = 10_000

export class RoleCache {
  /** undefined value: the role does not exist. */
  private readonly entries = new Map<string, LastGood<Role | undefined>>()

  constructor(
    private readonly api: Pick<AuthApi, 'getRole'>,
    private readonly options: {clock?: Clock; log?: Logger} = {},
  ) {}

  /** The roles that exist among `names` (unknown names are left out). Throws when auth is unreachable and nothing usable is cached. */
  async getRoles(names: readonly string[]): Promise<Role[]> {
    const roles = await Promise.all(names.map(async (name) => (await this.entry(name).get()).value))
    return roles.filter((r): r is Role => r !== undefined)
  }

  private entry(name: string): LastGood<Role | undefined> {
    let entry = this.entries.get(name)
    if (!entry) {
      entry = new LastGood(() => this.fetch(name), {what: `role "${name}"`, freshMs: FRESH_MS, ...this.options})
      this.entries.set(name, entry)
    }
    return entry
  }

  private fetch(name: string): Promise<Role | undefined> {
    return unlessNotFound(this.api.getRole(name))
  }
}
