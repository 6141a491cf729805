// The clock seam: production code asks a Clock for the time so tests can move it.
export interface Clock {
  now(): Date
}

export const systemClock: Clock = {now: () => new Date()}

/** A clock that only moves when told to. Tests only. */
export class FakeClock implements Clock {
  private current: number
  constructor(start: Date | number = Date.UTC(2026, 0, 1)) {
    this.current = typeof start === 'number' ? start : start.getTime()
  }
  now(): Date {
    return new Date(this.current)
  }
  advance(ms: number): void {
    this.current += ms
  }
  set(at: Date | number): void {
    this.current = typeof at === 'number' ? at : at.getTime()
  }
}
