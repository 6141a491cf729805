import {readFileSync} from 'node:fs'

// The package version, read once from package.json beside dist/ or src/.
let cached: string | undefined

export function productVersion(): string {
  if (!cached) {
    const pjson = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {version: string}
    cached = pjson.version
  }
  return cached
}

export interface VersionInfo {
  version: string
  runtime: string
}

export function versionInfo(): VersionInfo {
  return {version: productVersion(), runtime: `node${process.versions.node}`}
}

/** The text form users know: `Teleport v16.0.0 git:... go1.22`. */
export function versionLine(info: VersionInfo = versionInfo()): string {
  return `Teleport v${info.version} ${info.runtime}`
}
