// Locks, as Teleport has them: a resource that refuses a user, everyone holding a role, or a node,
// until it is removed or expires. Stored under /locks/<uuid> with the backend's expiry set to the
// lock's, so an expired lock vanishes by itself; readers also skip one whose time has passed.
import {randomUUID} from 'node:crypto'
import {BackendService} from './backend-service.js'
import {BadParameterError, NotFoundError} from '../lib/errors.js'
import {assertValidName} from './models/resource.js'
import {lockFromResource, lockExpired, type Lock, type NewLock} from './models/lock.js'

export * from './models/lock.js'

const PREFIX = '/locks/'

export class LockService extends BackendService {

  /** `tctl lock`: a new lock named by a random UUID. */
  async create(input: NewLock): Promise<Lock> {
    if (input.ttlMs !== undefined && (!Number.isFinite(input.ttlMs) || input.ttlMs <= 0)) throw new BadParameterError('a lock TTL must be positive, e.g. 1h')
    const now = this.clock.now()
    const lock = lockFromResource({
      kind: 'lock',
      version: 'v2',
      metadata: {name: randomUUID()},
      spec: {
        target: input.target,
        ...(input.message ? {message: input.message} : {}),
        ...(input.ttlMs !== undefined ? {expires: new Date(now.getTime() + input.ttlMs).toISOString()} : {}),
        created_at: now.toISOString(),
        ...(input.createdBy ? {created_by: input.createdBy} : {}),
      },
    })
    await this.backend.create(this.item(lock))
    return lock
  }

  /** Creates or replaces a lock given as a resource (`tctl create`). */
  async upsert(raw: unknown): Promise<Lock> {
    const lock = lockFromResource(raw)
    if (lockExpired(lock, this.clock.now())) throw new BadParameterError(`lock ${JSON.stringify(lock.metadata.name)}: spec.expires is in the past`)
    await this.backend.put(this.item(lock))
    return lock
  }

  async get(name: string): Promise<Lock> {
    assertValidName('lock', name)
    try {
      const lock = JSON.parse((await this.backend.get(PREFIX + name)).value) as Lock
      if (!lockExpired(lock, this.clock.now())) return lock
    } catch (err) {
      if (!(err instanceof NotFoundError)) throw err
    }
    throw notFound(name)
  }

  /** The locks in force, oldest first. */
  async list(): Promise<Lock[]> {
    const now = this.clock.now()
    return (await this.backend.getRange(PREFIX))
      .map((item) => JSON.parse(item.value) as Lock)
      .filter((lock) => !lockExpired(lock, now))
      .sort((a, b) => (a.spec.created_at ?? '').localeCompare(b.spec.created_at ?? '') || a.metadata.name.localeCompare(b.metadata.name))
  }

  async delete(name: string): Promise<void> {
    assertValidName('lock', name)
    await this.deleteOr(PREFIX + name, () => notFound(name))
  }

  private item(lock: Lock) {
    return {key: PREFIX + lock.metadata.name, value: JSON.stringify(lock), ...(lock.spec.expires ? {expires: new Date(lock.spec.expires)} : {})}
  }
}

function notFound(name: string): NotFoundError {
  return new NotFoundError(`lock ${JSON.stringify(name)} is not found`, {hint: 'list locks with "tctl get locks"'})
}
