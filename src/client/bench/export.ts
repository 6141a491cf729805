import path from 'node:path'
import {writeFileAtomic} from '../../lib/atomic-write.js'
import type {LatencyHistogram} from './histogram.js'

/** Writes the distribution to `<dir>/latency-<time>.txt` (0600) and answers the file's path. */
export function exportDistribution(dir: string, histogram: LatencyHistogram, now = new Date()): string {
  const file = path.join(dir, `latency-${now.toISOString().replace(/[:.]/g, '-')}.txt`)
  writeFileAtomic(file, histogram.distribution())
  return file
}
