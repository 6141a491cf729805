// RoleService: roles stored in the backend under /roles/<name>; the role model (types,
// validation, built-ins) is ./models/role.ts.
import type {Backend} from '../backend/backend.js'
import {AlreadyExistsError, BadParameterError, NotFoundError} from '../lib/errors.js'
import {BUILTIN_ROLES, isBuiltinRole, validateRole, type Role} from './models/role.js'

export * from './models/role.js'

const ROLES_PREFIX = '/roles/'

export class RoleService {
  constructor(private readonly backend: Backend) {}

  /** Validates and stores a new role; AlreadyExistsError when the name is taken (built-ins included). */
  async create(raw: unknown): Promise<Role> {
    const role = validateRole(raw)
    const name = role.metadata.name
    const exists = () => new AlreadyExistsError(`role ${JSON.stringify(name)} already exists`, {hint: 'use `tctl create -f` with --force to overwrite it'})
    if (isBuiltinRole(name)) throw exists()
    try {
      await this.backend.create(this.toItem(role))
    } catch (err) {
      if (err instanceof AlreadyExistsError) throw exists()
      throw err
    }
    return role
  }

  /** Validates and stores a role, replacing any role of that name. */
  async upsert(raw: unknown): Promise<Role> {
    const role = validateRole(raw)
    await this.backend.put(this.toItem(role))
    return role
  }

  async get(name: string): Promise<Role> {
    try {
      return JSON.parse((await this.backend.get(ROLES_PREFIX + name)).value) as Role
    } catch (err) {
      if (!(err instanceof NotFoundError)) throw err
      const builtin = BUILTIN_ROLES.get(name)
      if (builtin) return structuredClone(builtin) as Role
      throw new NotFoundError(`role ${JSON.stringify(name)} is not found`)
    }
  }

  /** Several roles by name, in that order; NotFoundError naming the first missing one. */
  async getMany(names: readonly string[]): Promise<Role[]> {
    return Promise.all(names.map((name) => this.get(name)))
  }

  /** Every role, built-ins included, sorted by name. */
  async list(): Promise<Role[]> {
    const stored = (await this.backend.getRange(ROLES_PREFIX)).map((item) => JSON.parse(item.value) as Role)
    const names = new Set(stored.map((r) => r.metadata.name))
    for (const [name, role] of BUILTIN_ROLES) if (!names.has(name)) stored.push(structuredClone(role) as Role)
    return stored.sort((a, b) => (a.metadata.name < b.metadata.name ? -1 : a.metadata.name > b.metadata.name ? 1 : 0))
  }

  async delete(name: string): Promise<void> {
    if (isBuiltinRole(name)) throw new BadParameterError(`role ${JSON.stringify(name)} is a built-in role and cannot be deleted`)
    try {
      await this.backend.delete(ROLES_PREFIX + name)
    } catch (err) {
      if (err instanceof NotFoundError) throw new NotFoundError(`role ${JSON.stringify(name)} is not found`)
      throw err
    }
  }

  private toItem(role: Role) {
    return {key: ROLES_PREFIX + role.metadata.name, value: JSON.stringify(role)}
  }
}
