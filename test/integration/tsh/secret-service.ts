import {spawn, type ChildProcess} from 'node:child_process'
import {mkdirSync} from 'node:fs'
import path from 'node:path'

// A real Secret Service for the keychain tests: a private D-Bus session bus and gnome-keyring's
// secrets component on it, its login keyring created and unlocked with a password on stdin (as
// PAM does at a desktop login), all under a temp HOME. Started per test file; stop() ends both.

export interface SecretService {
  /** DBUS_SESSION_BUS_ADDRESS for the processes that should see it. */
  busAddress: string
  stop(): Promise<void>
}

function waitForOutput(child: ChildProcess, pattern: RegExp, what: string): Promise<string> {
  return new Promise((resolve, reject) => {
    let out = ''
    const onData = (d: Buffer) => {
      out += d.toString()
      const m = pattern.exec(out)
      if (m) resolve(m[0])
    }
    child.stdout!.on('data', onData)
    child.stderr!.on('data', onData)
    child.once('exit', (code) => reject(new Error(`${what} exited ${code} before it was ready: ${out}`)))
  })
}

function stopChild(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve()
    child.once('exit', () => resolve())
    child.kill('SIGTERM')
  })
}

export async function startSecretService(dir: string): Promise<SecretService> {
  const home = path.join(dir, 'keyring-home')
  mkdirSync(home, {recursive: true, mode: 0o700})
  const busAddress = `unix:path=${path.join(dir, 'bus')}`
  const env = {...process.env, HOME: home, XDG_DATA_HOME: path.join(home, '.local', 'share'), XDG_RUNTIME_DIR: dir, DBUS_SESSION_BUS_ADDRESS: busAddress}
  const bus = spawn('dbus-daemon', ['--session', '--nofork', '--nopidfile', `--address=${busAddress}`, '--print-address=1'], {env, stdio: ['ignore', 'pipe', 'pipe']})
  await waitForOutput(bus, /unix:path=\S+/, 'dbus-daemon')
  const keyring = spawn('gnome-keyring-daemon', ['--foreground', '--unlock', '--components=secrets', `--control-directory=${path.join(dir, 'keyring')}`], {env, stdio: ['pipe', 'pipe', 'pipe']})
  keyring.stdin!.end('test-keyring-password')
  // It prints its control variables once it has taken its name on the bus.
  await waitForOutput(keyring, /GNOME_KEYRING_CONTROL=\S+/, 'gnome-keyring-daemon')
  return {
    busAddress,
    stop: async () => {
      await stopChild(keyring)
      await stopChild(bus)
    },
  }
}
