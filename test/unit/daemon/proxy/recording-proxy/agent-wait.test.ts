import assert from 'node:assert/strict'
import {test} from 'node:test'
import {AGENT_WAIT_MS, AgentWait} from '../../../../../src/daemon/proxy/recording-proxy/agent-wait.js'
import {FakeClock} from '../../../../../src/lib/clock.js'

// A forward through the recording proxy waits for a session to forward the user's agent: until it
// comes, until a session starts without it or the connection closes, or a bounded time.

/** What the wait has resolved to so far (undefined: still waiting). */
function watch(wait: Promise<boolean>): () => boolean | undefined {
  let result: boolean | undefined
  void wait.then((forwarded) => (result = forwarded))
  return () => result
}

const settled = () => new Promise((resolve) => setImmediate(resolve))

test('a forward waiting when the session forwards the agent goes on with it', async () => {
  const clock = new FakeClock()
  const agent = new AgentWait(clock)
  const first = watch(agent.wait())
  await settled()
  assert.equal(first(), undefined, 'still waiting')
  agent.agentForwarded()
  await settled()
  assert.equal(first(), true)
  assert.equal(clock.pendingTimers, 0, 'its timer is gone')
  assert.equal(await agent.wait(), true, 'later forwards do not wait')
})

test('without a session (ssh -N) the wait runs out after its bound, not before', async () => {
  const clock = new FakeClock()
  const agent = new AgentWait(clock)
  const result = watch(agent.wait())
  clock.advance(AGENT_WAIT_MS - 1)
  await settled()
  assert.equal(result(), undefined)
  clock.advance(1)
  await settled()
  assert.equal(result(), false)
})

test('a session started without the agent, or the connection closing, ends the waits at once; a later agent still counts', async () => {
  const clock = new FakeClock()
  const agent = new AgentWait(clock)
  const a = watch(agent.wait())
  const b = watch(agent.wait())
  agent.noneComing()
  await settled()
  assert.deepEqual([a(), b()], [false, false])
  assert.equal(clock.pendingTimers, 0)
  const later = watch(agent.wait())
  agent.agentForwarded()
  await settled()
  assert.equal(later(), true)
  assert.equal(agent.isForwarded, true)
})
