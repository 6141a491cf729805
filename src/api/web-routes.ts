import {json, types} from './route.js'

// The proxy's web API (`/v1/webapi/...`, HTTPS, Teleport's field names): what the proxy serves
// (src/daemon/proxy/web-api.ts), what tsh calls (src/client/web-client.ts) and what a host
// joining through the proxy calls (src/daemon/common/proxy-web-join.ts). Bodies come from
// anyone who reaches the web port: each side still checks what it reads.

export interface WebPing {
  auth: {type: string; second_factor: string}
  proxy: {
    /** Teleport's names; the tunnel pair only when the proxy serves reverse tunnels (nodes dial it). */
    ssh: {listen_addr: string; public_addr?: string; tunnel_listen_addr?: string; ssh_tunnel_public_addr?: string}
    /** Teleport's: every protocol is on the web port, by ALPN (proxy_listener_mode: multiplex). */
    tls_routing_enabled?: boolean
    /** The ALPN name of the TLS relay to nodes on the web port, when the proxy serves it (ours). */
    ssh_relay_alpn?: string
    /**
     * Sessions are recorded at the proxy (auth_service.session_recording: proxy or proxy-sync), which
     * then needs the client's agent: `tsh config` sets ForwardAgent for it.
     */
    recording_proxy?: boolean
  }
  server_version: string
  cluster_name: string
  ca_pins?: string[]
}

/** `tsh login`: ttl in nanoseconds (a Go duration); pub_key an OpenSSH public key line. */
export interface SshCertsRequest {
  user: string
  password: string
  otp_token?: string
  pub_key: string
  ttl: number
}

export interface SshCertsResponse {
  username: string
  cert: string
  /** The same identity as an X.509 client certificate on the same key (PEM; Teleport's field). */
  tls_cert?: string
  /** checking_keys: host CA keys; tls_certs: the TLS user CA that signs tls_cert (PEM). */
  host_signers: {domain_name: string; checking_keys: string[]; tls_certs?: string[]}[]
}

/** A host joining with a token. */
export interface HostCredentialsRequest {
  token: string
  hostID: string
  node_name: string
  role: 'node' | 'proxy'
  public_ssh_key: string
  additional_principals: string[]
}

export interface HostCredentials {
  cert: string
  host_ca_keys: string[]
  user_ca_keys: string[]
  cluster_name: string
}

/** The cluster's host CA keys (public, like Teleport's /webapi/auth/export): tsh follows a host CA rotation by them. */
export interface WebHostCAs {
  cluster_name: string
  host_ca_keys: string[]
}

export const WEB_ROUTES = {
  ping: json('GET', '/v1/webapi/ping', types<{response: WebPing}>()),
  hostCAs: json('GET', '/v1/webapi/auth/export', types<{response: WebHostCAs}>()),
  sshCerts: json('POST', '/v1/webapi/ssh/certs', types<{body: SshCertsRequest; response: SshCertsResponse}>()),
  hostCredentials: json('POST', '/v1/webapi/host/credentials', types<{body: HostCredentialsRequest; response: HostCredentials}>()),
} as const

export type WebRoutes = typeof WEB_ROUTES
