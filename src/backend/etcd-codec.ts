// How items are laid out in etcd. Keys: the configured prefix followed by the backend key (which
// starts with '/'), so "/teleport" + "/users/alice". Values: a small JSON envelope carrying the
// expiry next to the value, because reads hide an item from the moment it expires by this
// backend's clock, while etcd's lease (granularity seconds, at least 2 s) removes it a little later.
import type {IKeyValue} from 'etcd3'
import {BadParameterError} from '../lib/errors.js'
import type {Item} from './backend.js'
import {assertValidKey} from './keys.js'

interface Envelope {
  /** The item's value. */
  v: string
  /** Expiry, milliseconds since the epoch. */
  e?: number
  /** A random id of the write, so a writer can tell its own write from another's (see EtcdBackend). */
  w?: string
}

export class EtcdKeyspace {
  readonly prefix: string

  constructor(prefix: string) {
    this.prefix = prefix.replace(/\/+$/, '')
  }

  /** The etcd key of a backend key. Keys must start with '/', so "/teleport" never spans "/teleportx". */
  key(key: string): Buffer {
    assertValidKey(key)
    if (!key.startsWith('/')) throw new BadParameterError(`backend key ${JSON.stringify(key)} must start with "/"`)
    return Buffer.from(this.prefix + key, 'utf8')
  }

  /** The etcd range [start, end) holding every key that starts with `prefix` (all keys when ''). */
  range(prefix: string): {key: Buffer; range_end: Buffer} {
    const start = Buffer.from(this.prefix + (prefix === '' ? '/' : prefix), 'utf8')
    return {key: start, range_end: rangeEnd(start)}
  }

  /** The backend key of an etcd key under this prefix. */
  unprefix(key: Buffer): string {
    return key.toString('utf8').slice(this.prefix.length)
  }

  toItem(kv: IKeyValue): {item: Item; expiresMs?: number; writeId?: string} {
    const envelope = decodeValue(kv.value)
    const item: Item = {key: this.unprefix(kv.key), value: envelope.v, revision: Number(kv.mod_revision)}
    if (envelope.e !== undefined) item.expires = new Date(envelope.e)
    return {item, expiresMs: envelope.e, writeId: envelope.w}
  }
}

export function encodeValue(value: string, expiresMs: number | undefined, writeId: string): Buffer {
  const envelope: Envelope = expiresMs === undefined ? {v: value, w: writeId} : {v: value, e: expiresMs, w: writeId}
  return Buffer.from(JSON.stringify(envelope), 'utf8')
}

export function writeIdOf(raw: Buffer): string | undefined {
  return decodeValue(raw).w
}

function decodeValue(raw: Buffer): Envelope {
  const parsed = JSON.parse(raw.toString('utf8')) as Envelope
  if (typeof parsed?.v !== 'string') throw new Error('etcd value is not a backend item envelope')
  return parsed
}

/** The first key after every key starting with `start` (etcd's "prefix end"). */
function rangeEnd(start: Buffer): Buffer {
  const end = Buffer.from(start)
  for (let i = end.length - 1; i >= 0; i--) {
    if (end[i]! < 0xff) {
      end[i] = end[i]! + 1
      return end.subarray(0, i + 1)
    }
  }
  return Buffer.from([0])
}
