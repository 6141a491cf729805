import {UsageError} from '../../lib/errors.js'

// --speed: a factor from 0.25 to 16, written 2, 2x or 0.5x.

export const MIN_SPEED = 0.25
export const MAX_SPEED = 16

export function parseSpeed(text: string): number {
  const match = /^(\d+(?:\.\d+)?|\.\d+)x?$/i.exec(text.trim())
  const speed = match ? Number(match[1]) : Number.NaN
  if (!(speed >= MIN_SPEED && speed <= MAX_SPEED)) {
    throw new UsageError(`--speed: ${JSON.stringify(text)} is not a speed from ${MIN_SPEED} to ${MAX_SPEED}`, {hint: 'e.g. --speed 2x, --speed 0.5x or --speed 4'})
  }
  return speed
}
