import type {Backend, Item} from '../backend/backend.js'
import {systemClock, type Clock} from '../lib/clock.js'
import {NotFoundError, unlessNotFound} from '../lib/errors.js'

/** What the services that store records share: the backend, and the clock seam for times and expiries. */
export abstract class BackendService {
  protected readonly clock: Clock

  constructor(
    protected readonly backend: Backend,
    options: {clock?: Clock} = {},
  ) {
    this.clock = options.clock ?? systemClock
  }

  /** The item at `key`, or undefined when there is none. */
  protected find(key: string): Promise<Item | undefined> {
    return unlessNotFound(this.backend.get(key))
  }

  /** Deletes `key`; false when there was nothing to delete. */
  protected async deleteIfExists(key: string): Promise<boolean> {
    try {
      await this.backend.delete(key)
      return true
    } catch (err) {
      if (err instanceof NotFoundError) return false
      throw err
    }
  }

  /**
   * Moves a live record's expiry to `expires` (presence keepalives); a record that is gone or
   * expired throws `notFound()`. `current`: the item as last seen (Backend.keepAlive).
   */
  protected async renewExpiry(key: string, expires: Date, notFound: () => Error, current?: Item): Promise<Item> {
    try {
      return await this.backend.keepAlive(key, expires, current)
    } catch (err) {
      throw err instanceof NotFoundError ? notFound() : err
    }
  }

  /** Deletes `key`; a missing one throws `notFound()`, which names the record as the caller knows it. */
  protected async deleteOr(key: string, notFound: () => Error): Promise<void> {
    if (!(await this.deleteIfExists(key))) throw notFound()
  }
}
