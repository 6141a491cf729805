import {createServer, type AddressInfo, type Socket} from 'node:net'
import type {ConnectIdentity} from '../../../../src/client/connect/index.js'
import {generateKeyPair, signUserCert} from '../../../../src/sshca/index.js'

// A "proxy" on loopback that treats every connection as `onSocket` says (resets it, closes it
// mid-handshake), and a login whose profile points at it: for tsh's connect error paths.

export interface MisbehavingProxy {
  identity: ConnectIdentity
  close(): Promise<void>
}

export async function misbehavingProxy(onSocket: (socket: Socket) => void): Promise<MisbehavingProxy> {
  const server = createServer(onSocket)
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const {port} = server.address() as AddressInfo
  const ca = generateKeyPair()
  const user = generateKeyPair()
  const certificate = signUserCert({caPrivateKey: ca.privateKey, publicKey: user.publicKey, keyId: 'alice', principals: ['root'], ttlMs: 60_000, roles: [], traits: {}, routeToCluster: 'c'})
  return {
    identity: {profile: {webProxyAddr: `127.0.0.1:${port}`, sshProxyAddr: `127.0.0.1:${port}`, user: 'alice', cluster: 'c'}, privateKey: user.privateKey, certificate, hostCAs: []},
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  }
}
