import {decodeProfileYaml, encodeProfileYaml, type ProfileValue} from './profile-yaml.js'

// The profile record and its file form (~/.tsh/<proxy-host>.yaml), with Teleport's key names:
//
//   web_proxy_addr: proxy.example.com:3080
//   ssh_proxy_addr: proxy.example.com:3023
//   user: alice
//   cluster: example.com
//   auth_type: local
//   forward_ports: []
//   dynamic_forward_ports: []
//   private_key_store: keychain      only when the private key is in the OS keychain (tsh login --key-store)
//   ssh_relay_alpn: teleport-ssh-relay   the proxy serves the TLS relay to nodes (its ping said so at login)
//   tls_routing_enabled: true        the proxy's SSH port is its web port, by ALPN (proxy_listener_mode: multiplex)
//   recording_proxy: true            sessions are recorded at the proxy, which needs the user's agent (its ping said so at login)

export interface Profile {
  /** host:port of the proxy's HTTPS endpoint. */
  webProxyAddr: string
  /** host:port of the proxy's SSH endpoint. */
  sshProxyAddr: string
  user: string
  cluster: string
  authType: string
  forwardPorts: string[]
  dynamicForwardPorts: string[]
  /** Logged in with --insecure (the proxy's HTTPS certificate was not verified). */
  insecure?: boolean
  /** The profile user's private key is in the OS keychain, not under keys/ (KeychainKeyStore). */
  keyInKeychain?: boolean
  /** The ALPN name of the proxy's TLS relay to nodes, when its ping offered one at login. */
  sshRelayAlpn?: string
  /** The proxy multiplexes every protocol on its web port (Teleport's profile key). */
  tlsRoutingEnabled?: boolean
  /** Sessions are recorded at the proxy (recording proxy mode): connections to nodes need the agent forwarded. */
  recordingProxy?: boolean
}

export function profileToYaml(p: Profile): string {
  return encodeProfileYaml([
    ['web_proxy_addr', p.webProxyAddr],
    ['ssh_proxy_addr', p.sshProxyAddr],
    ['user', p.user],
    ['cluster', p.cluster],
    ['auth_type', p.authType],
    ['forward_ports', p.forwardPorts],
    ['dynamic_forward_ports', p.dynamicForwardPorts],
    ['insecure', p.insecure ? true : undefined],
    ['private_key_store', p.keyInKeychain ? 'keychain' : undefined],
    ['ssh_relay_alpn', p.sshRelayAlpn],
    ['tls_routing_enabled', p.tlsRoutingEnabled ? true : undefined],
    ['recording_proxy', p.recordingProxy ? true : undefined],
  ])
}

/** Throws Error naming the problem; callers add the file name. */
export function profileFromYaml(text: string): Profile {
  const raw = decodeProfileYaml(text)
  const str = (key: string, required = true): string => {
    const v = raw[key]
    if (v === undefined || v === '') {
      if (required) throw new Error(`missing "${key}"`)
      return ''
    }
    if (typeof v !== 'string') throw new Error(`"${key}" must be a string`)
    return v
  }
  const list = (key: string): string[] => {
    const v: ProfileValue | undefined = raw[key]
    if (v === undefined) return []
    if (!Array.isArray(v)) throw new Error(`"${key}" must be a list`)
    return v
  }
  const profile: Profile = {
    webProxyAddr: str('web_proxy_addr'),
    sshProxyAddr: str('ssh_proxy_addr', false),
    user: str('user'),
    cluster: str('cluster', false),
    authType: str('auth_type', false) || 'local',
    forwardPorts: list('forward_ports'),
    dynamicForwardPorts: list('dynamic_forward_ports'),
  }
  if (raw.insecure === true) profile.insecure = true
  const relayAlpn = str('ssh_relay_alpn', false)
  if (relayAlpn) profile.sshRelayAlpn = relayAlpn
  if (raw.tls_routing_enabled === true) profile.tlsRoutingEnabled = true
  if (raw.recording_proxy === true) profile.recordingProxy = true
  const keyStore = str('private_key_store', false)
  if (keyStore === 'keychain') profile.keyInKeychain = true
  else if (keyStore !== '' && keyStore !== 'file') throw new Error(`"private_key_store" must be keychain or file, not ${JSON.stringify(keyStore)}`)
  return profile
}
