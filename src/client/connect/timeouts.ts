import {DEFAULT_STARTUP_LIMITS} from '../../lib/net/startup-limiter.js'

// How long tsh waits on a server that is busy, not gone.

/**
 * An SSH handshake and login (proxy or node), and the TLS relay's answer: as long as a server's
 * default login deadline (LoginGraceTime, startup-limiter.ts), since a busy server holds
 * connections past its handshake caps in line rather than dropping them, and giving up sooner
 * drops what it meant to serve. The server's deadline closes the connection first
 * (failOnCloseBeforeReady turns that into an error).
 */
export const HANDSHAKE_TIMEOUT_MS = DEFAULT_STARTUP_LIMITS.graceMs
