import fc from 'fast-check'
import {parseProxySubsystem} from '../../../src/daemon/proxy/subsystem-request.js'
import {oddText} from '../arbitraries.js'
import {target} from '../harness/target.js'

// The proxy's routing subsystem name, chosen by any client that reached the proxy's SSH port.

const host = fc.oneof(fc.constantFrom('node-1', '10.0.0.1', '::1', '[::1]', '[fe80::1%eth0]', 'a'.repeat(256), ''), oddText)
const port = fc.oneof(fc.constantFrom('', ':', ':0', ':22', ':65535', ':65536', ':-1', ':1e3', ':0x16', ': 22'), oddText.map((t) => `:${t}`))
const cluster = fc.oneof(fc.constantFrom('', '@', '@example.com', '@a@b', '@ ', '@\0'), oddText.map((t) => `@${t}`))

export const SUBSYSTEM_REQUEST_TARGETS = [
  target({
    name: 'proxy-subsystem-request',
    arbitrary: fc.oneof(
      {weight: 4, arbitrary: fc.tuple(host, port, cluster).map(([h, p, c]) => `proxy:${h}${p}${c}`)},
      {weight: 1, arbitrary: oddText},
    ),
    run: (name: string) => {
      const request = parseProxySubsystem(name)
      if (request.kind === 'node' && request.port !== undefined && !(Number.isInteger(request.port) && request.port > 0 && request.port < 65536)) {
        throw new Error(`port ${request.port} accepted`)
      }
    },
  }),
]
