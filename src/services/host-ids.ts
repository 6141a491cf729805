// Host ids the cluster has issued host certificates for: /hostids/<id> → the key fingerprint each
// role's certificate certifies. A joiner is never handed an id that exists under another key (it
// would take over that host's name, presence record and traffic), and a presence update must come
// from the key its record is bound to.
import type {Condition, Operation} from '../backend/backend.js'
import {BackendService} from './backend-service.js'
import {WatchedItems} from './watched-items.js'
import {AccessDeniedError, AlreadyExistsError, BadParameterError, CompareFailedError, NotFoundError} from '../lib/errors.js'
import {fingerprint} from '../sshca/index.js'

const PREFIX = '/hostids/'
const CAS_RETRIES = 20
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/

export interface HostIdRecord {
  hostId: string
  /** Host role (Node, Proxy, Auth, Admin) → SHA256 fingerprint of the certified key. */
  roles: Record<string, string>
  createdAt: string
}

/** What registering a joiner writes, to go in one atomic write with the token's use. */
export interface HostIdClaim {
  /** The id was not registered before: the join takes a use of a counted token. */
  newHost: boolean
  conditions: Condition[]
  operations: Operation[]
}

/** A joiner's host id: a lowercase UUID, as `<data_dir>/host_uuid` holds. */
export function assertJoinerHostId(hostId: string): void {
  if (!UUID.test(hostId)) {
    throw new BadParameterError(`host id ${JSON.stringify(hostId.slice(0, 64))} is not a UUID`, {hint: 'remove <data_dir>/host_uuid on the joining host to have a new one made'})
  }
}

export function hostIdTaken(hostId: string): AccessDeniedError {
  return new AccessDeniedError(`host id ${hostId} is already registered in the cluster`, {
    hint: `join from a fresh data dir (a new host id), or remove the old host first: tctl rm node/${hostId}`,
  })
}

export class HostIdService extends BackendService {
  private readonly watched = new WatchedItems(this.backend, PREFIX, (item) => JSON.parse(item.value) as HostIdRecord)

  async get(hostId: string): Promise<HostIdRecord | undefined> {
    return (await this.getRaw(hostId))?.record
  }

  /** Auth issuing a certificate itself (its own, tctl's, services beside it): binds the role to the key. */
  async bind(hostId: string, role: string, publicKey: string): Promise<void> {
    const fp = fingerprint(publicKey)
    for (let attempt = 0; ; attempt++) {
      const current = await this.getRaw(hostId)
      try {
        if (!current) this.watched.wrote(await this.backend.create({key: PREFIX + hostId, value: this.encode({hostId, roles: {[role]: fp}})}))
        else if (current.record.roles[role] !== fp) this.watched.wrote(await this.backend.compareAndSwap(current.value, {key: PREFIX + hostId, value: JSON.stringify({...current.record, roles: {...current.record.roles, [role]: fp}})}))
        return
      } catch (err) {
        if (!(err instanceof AlreadyExistsError || err instanceof CompareFailedError || err instanceof NotFoundError) || attempt >= CAS_RETRIES) throw err
      }
    }
  }

  /**
   * The write that gives `role` on `hostId` to a joiner with `publicKey`: a new id, or one already
   * bound to this very key (the same host joining its other role, or re-joining). An id bound to
   * other keys is refused: only `tctl rm node/<id>` frees it.
   */
  async claimForJoin(hostId: string, role: string, publicKey: string): Promise<HostIdClaim> {
    const fp = fingerprint(publicKey)
    const key = PREFIX + hostId
    const current = await this.getRaw(hostId)
    if (!current) {
      return {newHost: true, conditions: [{key, kind: 'not-exists'}], operations: [{op: 'put', item: {key, value: this.encode({hostId, roles: {[role]: fp}})}}]}
    }
    if (!Object.values(current.record.roles).includes(fp)) throw hostIdTaken(hostId)
    const value = JSON.stringify({...current.record, roles: {...current.record.roles, [role]: fp}})
    return {newHost: false, conditions: [{key, kind: 'value-equals', value: current.value}], operations: [{op: 'put', item: {key, value}}]}
  }

  /**
   * Whether `publicKey` may act as `role` of `hostId`. An id or role with no binding yet (issued
   * before bindings were kept) is bound to the first key that uses it.
   */
  async isBoundTo(hostId: string, role: string, publicKey: string): Promise<boolean> {
    const fp = fingerprint(publicKey)
    // Every heartbeat asks: the watched copy answers yes without a read (this process's own
    // binds and deletes apply to it at once; another auth server's, when its watch brings them).
    // Anything else (a join the watch has not shown yet) is decided by the backend itself.
    if ((await this.watched.get(PREFIX + hostId, this.clock.now()))?.roles[role] === fp) return true
    const bound = (await this.get(hostId))?.roles[role]
    if (bound === undefined) {
      await this.bind(hostId, role, publicKey)
      return true
    }
    return bound === fp
  }

  /** Frees the id (`tctl rm node/<id>`). False when it was not registered. */
  async delete(hostId: string): Promise<boolean> {
    const deleted = await this.deleteIfExists(PREFIX + hostId)
    this.watched.deleted(PREFIX + hostId)
    return deleted
  }

  private encode(record: Omit<HostIdRecord, 'createdAt'>): string {
    return JSON.stringify({...record, createdAt: this.clock.now().toISOString()})
  }

  private async getRaw(hostId: string): Promise<{record: HostIdRecord; value: string} | undefined> {
    if (hostId === '' || hostId.includes('/')) throw new BadParameterError(`invalid host id ${JSON.stringify(hostId)}`)
    const item = await this.find(PREFIX + hostId)
    return item && {record: JSON.parse(item.value) as HostIdRecord, value: item.value}
  }
}
