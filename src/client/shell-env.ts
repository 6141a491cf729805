import type {Profile} from './profile.js'

// `tsh env`: the variables that pin later tsh commands to the current profile.

export function envVariables(profile: Profile): Record<string, string> {
  return {TELEPORT_PROXY: profile.webProxyAddr, TELEPORT_CLUSTER: profile.cluster}
}

/** Single-quoted for sh unless plainly safe. */
function shellQuote(value: string): string {
  return /^[A-Za-z0-9_./:@%+=,-]+$/.test(value) ? value : `'${value.replace(/'/g, `'\\''`)}'`
}

export function renderEnvExports(vars: Record<string, string>): string {
  return Object.entries(vars).map(([k, v]) => `export ${k}=${shellQuote(v)}\n`).join('')
}

export function renderEnvUnset(names: string[] = ['TELEPORT_PROXY', 'TELEPORT_CLUSTER']): string {
  return names.map((n) => `unset ${n}\n`).join('')
}
