import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { jetstream, jetstreamManager, type JetStreamManager } from '@nats-io/jetstream'
import { connect, type NatsConnection } from '@nats-io/transport-node'
import { HEADER, decodeHeaderValue } from '../../src/brokers/messages.js'
import { serviceAvailable, uniqueName } from '../support/services.js'
import { sleep, until, type Received } from './fixtures.js'

/** The shared server (`AETT_NATS_URL`, default 127.0.0.1:4222), with JetStream. */
export const natsServers = process.env['AETT_NATS_URL'] ?? '127.0.0.1:4222'

export const natsAvailable = (): Promise<boolean> =>
  serviceAvailable('NATS JetStream', async () => {
    const nc = await connect({ servers: natsServers, timeout: 2_000, reconnect: false })
    try {
      await (await jetstreamManager(nc)).getAccountInfo()
    } finally {
      await nc.close()
    }
  })

/** A unique stream name (and subject prefix) for one test. */
export const streamName = (what: string): string => uniqueName(`aett_${what}`)

export interface TestStream {
  readonly name: string
  readonly nc: NatsConnection
  readonly jsm: JetStreamManager
  /** Deletes the stream and closes the connection. */
  readonly dispose: () => Promise<void>
}

/** Creates stream `name` capturing `${name}.>` (and any extra subjects), with a duplicate window in ms. */
export const createStream = async (
  name: string,
  options: { duplicateWindowMs?: number; subjects?: string[]; servers?: string; existing?: boolean } = {},
): Promise<TestStream> => {
  const nc = await connect({ servers: options.servers ?? natsServers })
  const jsm = await jetstreamManager(nc)
  if (options.existing !== true)
    await jsm.streams.add({
      name,
      subjects: [`${name}.>`, ...(options.subjects ?? [])],
      ...(options.duplicateWindowMs === undefined ? {} : { duplicate_window: options.duplicateWindowMs * 1_000_000 }),
    })
  return {
    name,
    nc,
    jsm,
    dispose: async () => {
      await jsm.streams.delete(name).catch(() => undefined)
      await nc.close()
    },
  }
}

/** Every message of a stream, in stream order, through an ordered consumer. */
export const readStream = async (s: TestStream, filter?: string): Promise<{ received: Received[]; headers: Record<string, string>[]; subjects: string[]; bodies: string[] }> => {
  const info = await s.jsm.streams.info(s.name, filter === undefined ? {} : { subjects_filter: filter })
  const total = filter === undefined ? info.state.messages : Object.values(info.state.subjects ?? {}).reduce((a, b) => a + b, 0)
  const received: Received[] = []
  const headers: Record<string, string>[] = []
  const subjects: string[] = []
  const bodies: string[] = []
  if (total === 0) return { received, headers, subjects, bodies }
  const consumer = await jetstream(s.nc).consumers.get(s.name, filter === undefined ? {} : { filter_subjects: filter })
  const messages = await consumer.consume()
  const timer = setTimeout(() => messages.stop(), 30_000)
  for await (const m of messages) {
    const h: Record<string, string> = {}
    for (const k of m.headers?.keys() ?? []) h[k] = decodeHeaderValue(m.headers?.get(k) ?? '')
    headers.push(h)
    subjects.push(m.subject)
    bodies.push(m.string())
    received.push({ id: h['Nats-Msg-Id'] ?? '', stream: `${h[HEADER.tenant]}/${h[HEADER.stream]}`, revision: Number(h[HEADER.revision]), token: Number(h[HEADER.token]) })
    if (received.length >= total) break
  }
  clearTimeout(timer)
  messages.stop()
  return { received, headers, subjects, bodies }
}

// -------------------------------------------------------------------------------------
// a private server
// -------------------------------------------------------------------------------------

const freePort = (): Promise<number> =>
  new Promise((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const address = server.address()
      const port = typeof address === 'object' && address !== null ? address.port : 0
      server.close(() => resolve(port))
    })
  })

const answers = async (servers: string): Promise<boolean> => {
  try {
    const nc = await connect({ servers, timeout: 500, reconnect: false })
    await nc.close()
    return true
  } catch {
    return false
  }
}

export interface PrivateServer {
  readonly servers: string
  readonly start: () => Promise<void>
  /** Stops the server (SIGTERM, then SIGKILL after 5 s) and waits until it exited. */
  readonly stop: () => Promise<void>
  /** Kills the server (SIGKILL) and waits until it exited. */
  readonly kill: () => Promise<void>
  readonly dispose: () => Promise<void>
}

/**
 * A nats-server of this test's own, with JetStream, on a free loopback port and a store directory of its own, so that
 * stopping it disturbs nobody. The binary is `nats-server` on the PATH (or AETT_NATS_SERVER).
 */
export const privateServer = async (): Promise<PrivateServer> => {
  const port = await freePort()
  const dir = mkdtempSync(join(tmpdir(), 'aett-nats-'))
  const servers = `127.0.0.1:${port}`
  let child: ChildProcess | undefined
  const bin = process.env['AETT_NATS_SERVER'] ?? 'nats-server'
  const start = async () => {
    const c = spawn(bin, ['-a', '127.0.0.1', '-p', String(port), '-js', '-sd', dir], { stdio: 'ignore' })
    child = c
    const failed = new Promise<never>((_, reject) => c.once('error', reject))
    await Promise.race([until(`nats-server on ${servers} answers`, () => answers(servers), 15_000, 50), failed])
  }
  const stop = async (signal: 'SIGTERM' | 'SIGKILL' = 'SIGTERM') => {
    const c = child
    child = undefined
    if (c === undefined || c.exitCode !== null) return
    const exited = new Promise<void>((resolve) => c.once('exit', () => resolve()))
    c.kill(signal)
    const timer = setTimeout(() => c.kill('SIGKILL'), 5_000)
    await exited
    clearTimeout(timer)
    await sleep(20)
  }
  await start()
  return {
    servers,
    start,
    stop: () => stop(),
    kill: () => stop('SIGKILL'),
    dispose: async () => {
      await stop()
      rmSync(dir, { recursive: true, force: true })
    },
  }
}
