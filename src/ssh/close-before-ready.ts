import type ssh2 from 'ssh2'

// ssh2's client says nothing when the server closes the connection after its version line and
// before the login is done: no 'error', and its readyTimeout is cleared, so whoever waits for
// 'ready' or 'error' waits for ever (a server closing at its login deadline under load did this to
// `tsh ssh`). Every client connect that waits for 'ready' takes this close as a failure.

/** Calls `fail` (level client-socket) when `client` closes before 'ready'. Call before connect(). */
export function failOnCloseBeforeReady(client: ssh2.Client, fail: (err: Error & {level: string}) => void): void {
  let ready = false
  client.once('ready', () => (ready = true))
  client.once('close', () => {
    if (!ready) fail(Object.assign(new Error('the server closed the connection during the SSH handshake'), {level: 'client-socket'}))
  })
}
