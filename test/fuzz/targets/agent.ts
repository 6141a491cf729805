import fc from 'fast-check'
import {deepStrictEqual} from 'node:assert'
import {generateKeyPairSync} from 'node:crypto'
import {
  MessageReader,
  SSH2_AGENT_IDENTITIES_ANSWER,
  SSH2_AGENT_SIGN_RESPONSE,
  SSH2_AGENTC_SIGN_REQUEST,
  SSH_AGENT_FAILURE,
  decodeIdentitiesAnswer,
  decodeSignRequest,
  decodeSignResponse,
  encodeAddIdentity,
  encodeIdentitiesAnswer,
  encodeRemoveIdentity,
  encodeSignRequest,
  encodeSignResponse,
  frame,
} from '../../../src/client/agent/protocol.js'
import {mutatedBytes} from '../arbitraries.js'
import {target} from '../harness/target.js'

// The ssh-agent protocol: what tsh reads from an agent socket (a forwarded one comes from a
// remote host) and what `tsh agent` reads from its clients.

const key = generateKeyPairSync('ed25519').privateKey
const blob = Buffer.from('AAAAC3NzaC1lZDI1NTE5AAAAIB5Dz3pRdKsN8dvw0HDjQD0GRPvYZmXwxJM0oFUDLrdh', 'base64')
const seeds = [
  encodeIdentitiesAnswer([{blob, comment: 'alice'}, {blob, comment: ''}]),
  encodeSignRequest(blob, Buffer.from('data to sign'), 4),
  encodeSignResponse(Buffer.from('signature')),
  encodeAddIdentity({privateKey: key, certificateBlob: blob, comment: 'tsh', constraints: {lifetimeSeconds: 60, confirm: true}}),
  encodeRemoveIdentity(blob),
  frame(SSH_AGENT_FAILURE),
]

/** A byte stream of a few (mutated) messages, cut into chunks as a socket delivers them. */
const streams = fc.tuple(fc.array(mutatedBytes(seeds), {minLength: 1, maxLength: 3}), fc.array(fc.nat(), {maxLength: 4})).map(([messages, cuts]) => {
  const all = Buffer.concat(messages)
  const points = [...new Set(cuts.map((c) => c % (all.length + 1)))].sort((a, b) => a - b)
  return [0, ...points].map((start, i) => all.subarray(start, [...points, all.length][i]))
})

export const AGENT_TARGETS = [
  target({
    name: 'agent-messages',
    arbitrary: streams,
    run: (chunks: Buffer[]) => {
      const reader = new MessageReader()
      for (const chunk of chunks) {
        for (const m of reader.push(Buffer.from(chunk))) {
          if (m.type === SSH2_AGENT_IDENTITIES_ANSWER) decodeIdentitiesAnswer(m.body)
          else if (m.type === SSH2_AGENTC_SIGN_REQUEST) decodeSignRequest(m.body)
          else if (m.type === SSH2_AGENT_SIGN_RESPONSE) decodeSignResponse(m.body)
        }
      }
    },
  }),
  target({
    name: 'agent-roundtrip',
    arbitrary: fc.record({
      identities: fc.array(fc.record({blob: fc.uint8Array({maxLength: 64}), comment: fc.string({unit: 'grapheme', maxLength: 20})}), {maxLength: 4}),
      data: fc.uint8Array({maxLength: 128}),
      flags: fc.nat({max: 0xffffffff}),
    }),
    run: ({identities, data, flags}: {identities: {blob: Uint8Array; comment: string}[]; data: Uint8Array; flags: number}) => {
      const ids = identities.map((i) => ({blob: Buffer.from(i.blob), comment: i.comment}))
      const reader = new MessageReader()
      const [answer, request, response] = reader.push(Buffer.concat([encodeIdentitiesAnswer(ids), encodeSignRequest(ids[0]?.blob ?? Buffer.alloc(0), Buffer.from(data), flags), encodeSignResponse(Buffer.from(data))]))
      deepStrictEqual(decodeIdentitiesAnswer(answer!.body), ids)
      deepStrictEqual(decodeSignRequest(request!.body), {blob: ids[0]?.blob ?? Buffer.alloc(0), data: Buffer.from(data), flags})
      deepStrictEqual(decodeSignResponse(response!.body), Buffer.from(data))
    },
    refusals: [],
  }),
]
