import type {Session} from './session.js'

// The sessions running on this node, by session id: what the node ends when it stops, and what a
// party joining an existing session (the web terminal, `tsh join`) will look up.

export class SessionRegistry implements Iterable<Session> {
  private readonly sessions = new Map<string, Session>()

  /** Holds the session until it has ended. */
  add(session: Session): void {
    if (this.sessions.has(session.sid)) throw new Error(`session ${session.sid} is already registered`)
    this.sessions.set(session.sid, session)
    void session.ended.then(() => this.sessions.delete(session.sid))
  }

  get(sid: string): Session | undefined {
    return this.sessions.get(sid)
  }

  get size(): number {
    return this.sessions.size
  }

  [Symbol.iterator](): Iterator<Session> {
    return this.sessions.values()
  }
}
