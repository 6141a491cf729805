import {Flags} from '@oclif/core'
import {UsageError} from '../lib/errors.js'
import {parseDuration} from '../services/duration.js'

// The flags every tctl command that talks to the auth service takes. Spread them into each
// command's own `static override flags` (oclif reads flags from the class itself).

export const authFlags = {
  config: Flags.string({
    char: 'c',
    description:
      'The teleport config file, for the data dir (admin identity) and the auth address [default: $TELEPORT_CONFIG_FILE, else /etc/teleport.yaml when it exists]',
    helpGroup: 'GLOBAL',
  }),
  'auth-server': Flags.string({
    env: 'TELEPORT_AUTH_SERVER',
    description:
      'Address (host:port) of the auth server to dial; repeat it or give a comma list for several auth servers of one cluster, tried in turn while one cannot be reached [default: teleport.auth_servers of the config file, else its auth listen address, else 127.0.0.1:3025]; required with --identity',
    multiple: true,
    // One value per flag: the words after it are the command's (tctl --auth-server=a users rm bob).
    multipleNonGreedy: true,
    helpGroup: 'GLOBAL',
  }),
  identity: Flags.string({
    char: 'i',
    env: 'TELEPORT_IDENTITY_FILE',
    description: 'Identity file (from "tctl auth sign --format=file") to use instead of the admin identity in the data dir',
    helpGroup: 'GLOBAL',
  }),
}

/** What connect.ts reads from the parsed flags. */
export interface AuthFlags {
  config?: string
  /** Repeatable; each may be a comma list. */
  'auth-server'?: string | string[]
  identity?: string
}

/** "a,b, c" → ["a", "b", "c"], without empties or repeats. */
export function splitList(text: string | undefined): string[] {
  if (!text) return []
  return [...new Set(text.split(',').map((s) => s.trim()).filter(Boolean))]
}

/** A --ttl value (1h, 15m): milliseconds, or a usage error naming the flag. */
export function parseTtlFlag(text: string | undefined): number | undefined {
  if (text === undefined) return undefined
  let ttlMs: number
  try {
    ttlMs = parseDuration(text)
  } catch (err) {
    throw new UsageError(`--ttl: ${(err as Error).message}`)
  }
  if (ttlMs <= 0) throw new UsageError('--ttl must be longer than 0')
  return ttlMs
}
