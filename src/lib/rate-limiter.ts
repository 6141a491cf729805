import type {Clock} from './clock.js'

// Token buckets by key (a client address, say): `burst` tokens at most, one more every
// `refillMs`. Keys are forgotten oldest first past `maxKeys`, so a flood of keys cannot grow
// memory without bound (a forgotten key starts again with a full bucket).

export interface RateLimit {
  burst: number
  refillMs: number
}

interface Bucket {
  tokens: number
  at: number
}

export class RateLimiter {
  private readonly buckets = new Map<string, Bucket>()

  constructor(
    readonly limit: RateLimit,
    private readonly clock: Clock,
    private readonly maxKeys = 10_000,
  ) {}

  /** Takes a token: 0 when there was one, else the milliseconds until there is. */
  take(key: string): number {
    const bucket = this.current(key)
    const taken = bucket.tokens >= 1
    if (taken) bucket.tokens -= 1
    this.store(key, bucket)
    // (less a hair: refills are fractions, 2000 ms must not read as 2000.0000001)
    return taken ? 0 : Math.ceil((1 - bucket.tokens) * this.limit.refillMs - 1e-6)
  }

  /** Returns a token taken for something that turned out fine (a successful login). */
  giveBack(key: string): void {
    const bucket = this.current(key)
    bucket.tokens = Math.min(this.limit.burst, bucket.tokens + 1)
    this.store(key, bucket)
  }

  private current(key: string): Bucket {
    const now = this.clock.now().getTime()
    const kept = this.buckets.get(key)
    if (!kept) return {tokens: this.limit.burst, at: now}
    const refilled = Math.max(0, now - kept.at) / this.limit.refillMs
    return {tokens: Math.min(this.limit.burst, kept.tokens + refilled), at: now}
  }

  private store(key: string, bucket: Bucket): void {
    this.buckets.delete(key) // re-inserted last: the map's order is least recently used first
    if (bucket.tokens >= this.limit.burst) return // a full bucket is the default: nothing to keep
    this.buckets.set(key, bucket)
    if (this.buckets.size > this.maxKeys) this.buckets.delete(this.buckets.keys().next().value as string)
  }
}
