import fc from 'fast-check'
import type {Socket} from 'node:net'
import {PassThrough} from 'node:stream'
import {encodePreamble, verifyPreamble} from '../../../src/daemon/common/proxy-preamble.js'
import {PreambleError, readPreamble} from '../../../src/daemon/node/preamble-reader.js'
import {generateKeyPair, signHostCert} from '../../../src/sshca/index.js'
import {mutatedBytes, oddText} from '../arbitraries.js'
import {target, USER_ERRORS} from '../harness/target.js'

// The line a proxy writes before the SSH bytes of a relayed connection: anyone who can reach a
// node's port can write one, so the node must read any bytes and believe only a signed line.

const NOW = new Date('2026-11-21T10:00:00Z')
const ca = generateKeyPair('host-ca')
const proxyKey = generateKeyPair('proxy')
const certificate = signHostCert({caPrivateKey: ca.privateKey, publicKey: proxyKey.publicKey, keyId: 'proxy-1', principals: ['proxy-1'], role: 'Proxy', authority: 'example.com', now: NOW})
const valid = encodePreamble({src: '10.0.0.7:51000', dst: '10.0.0.2:3022'}, {privateKey: proxyKey.privateKey, certificate}, NOW).toString().trimEnd()
const [prefix, ...fields] = valid.split(' ')
const trust = {hostCAs: [ca.publicKey], clusterName: 'example.com'}

/** The valid line with its fields (JSON payload, certificate, signature) mutated as bytes, or swapped. */
const lines = fc.oneof(
  {weight: 4, arbitrary: fc.tuple(fc.nat({max: 2}), fc.constant(null)).chain(([i]) => mutatedBytes([Buffer.from(fields[i]!, 'base64')]).map((b) => [prefix, ...fields.map((f, j) => (j === i ? b.toString('base64') : f))].join(' ')))},
  {weight: 1, arbitrary: fc.array(fc.oneof(fc.constantFrom(...fields), oddText), {maxLength: 4}).map((f) => [prefix, ...f].join(' '))},
  {weight: 1, arbitrary: fc.tuple(fc.nat(), oddText).map(([at, junk]) => valid.slice(0, at % valid.length) + junk)},
)

export const PREAMBLE_TARGETS = [
  target({name: 'proxy-preamble-line', arbitrary: lines, run: (line: string) => verifyPreamble(line, trust, NOW)}),
  target({
    name: 'proxy-preamble-stream',
    arbitrary: fc.tuple(fc.oneof(lines.map((l) => `${l}\r\nSSH-2.0-x\r\n`), fc.constant('SSH-2.0-OpenSSH_9.6\r\n'), oddText, fc.string({maxLength: 9000})), fc.array(fc.nat(), {maxLength: 3})).map(([text, cuts]) => {
      const all = Buffer.from(text)
      const points = [...new Set(cuts.map((c) => c % (all.length + 1)))].sort((a, b) => a - b)
      return [0, ...points].map((start, i) => all.subarray(start, [...points, all.length][i]))
    }),
    run: async (chunks: Buffer[]) => {
      const socket = new PassThrough()
      const read = readPreamble(socket as unknown as Socket, 50)
      for (const chunk of chunks) socket.write(Buffer.from(chunk))
      socket.end()
      const line = await read
      if (line !== undefined) verifyPreamble(line, trust, NOW)
    },
    refusals: [...USER_ERRORS, PreambleError],
  }),
]
