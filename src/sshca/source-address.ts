// The "source-address" critical option: a comma-separated list of addresses and CIDR blocks the
// certificate may be used from. sshd enforces it for OpenSSH; ssh2 does not, so we must.

import {BlockList, isIP} from 'node:net'
import {BadParameterError} from '../lib/errors.js'
import {plainIp} from '../lib/net/ip.js'

interface AddressBlock {
  address: string
  prefix: number
  family: 'ipv4' | 'ipv6'
}

function parseBlock(entry: string): AddressBlock {
  const [address = '', prefixText, extra] = entry.split('/')
  const version = isIP(address)
  if (version === 0 || extra !== undefined) throw new BadParameterError(`"${entry}" in source-address is not an IP address or CIDR block`)
  const family = version === 4 ? 'ipv4' : 'ipv6'
  const maxPrefix = version === 4 ? 32 : 128
  if (prefixText === undefined) return {address, prefix: maxPrefix, family}
  const prefix = Number(prefixText)
  if (!/^\d+$/.test(prefixText) || prefix > maxPrefix) throw new BadParameterError(`"${entry}" in source-address has an invalid prefix length`)
  return {address, prefix, family}
}

/** Splits and checks a source-address value; throws BadParameterError on any bad entry. */
export function parseSourceAddressList(value: string | string[]): string[] {
  const entries = (Array.isArray(value) ? value : value.split(',')).map((e) => e.trim())
  if (entries.length === 0 || entries.some((e) => e === '')) throw new BadParameterError('source-address must list at least one address, with no empty entries')
  for (const entry of entries) parseBlock(entry)
  return entries
}

/** Whether `clientAddress` lies in one of the blocks of a source-address value. */
export function sourceAddressAllows(value: string, clientAddress: string): boolean {
  const client = plainIp(clientAddress)
  const clientVersion = isIP(client)
  if (clientVersion === 0) return false
  const list = new BlockList()
  for (const entry of parseSourceAddressList(value)) {
    const block = parseBlock(entry)
    list.addSubnet(block.address, block.prefix, block.family)
  }
  return list.check(client, clientVersion === 4 ? 'ipv4' : 'ipv6')
}
