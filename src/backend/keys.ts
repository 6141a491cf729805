// Key rules shared by the implementations, so memory and SQLite agree on what is valid and on order.
import {BadParameterError} from '../lib/errors.js'

export function assertValidKey(key: string): void {
  if (typeof key !== 'string' || key.length === 0) throw new BadParameterError('backend key must be a non-empty string')
  // A lone surrogate has no UTF-8 form: SQLite and etcd would silently store a different key.
  if (/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/.test(key)) {
    throw new BadParameterError(`backend key ${JSON.stringify(key)} is not well-formed Unicode`)
  }
}

/**
 * Orders keys by code point, which equals UTF-8 byte order (SQLite's BINARY collation, etcd).
 * Plain `<` on JS strings compares UTF-16 units and would put U+1F600 before U+FFEE.
 */
export function compareKeys(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'))
}

export function matchesAnyPrefix(key: string, prefixes: readonly string[] | undefined): boolean {
  if (!prefixes || prefixes.length === 0) return true
  return prefixes.some((prefix) => key.startsWith(prefix))
}
