import { readFileSync, readdirSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { decodeHeaderValue, encodeHeaderValue, HEADER, messageId, messagesOf, wireHeaders } from '../../src/brokers/messages.js'
import { judge, commitIdOfMessage } from '../../src/brokers/inbound.js'
import { undispatchedHeaders } from '../../src/domain/index.js'
import type { Commit } from '../../src/eventstore/index.js'
import { subjectProblem, subjectToken } from '../../src/nats/subjects.js'
import * as E from 'fp-ts/lib/Either.js'

const commit = (over: Partial<Commit> = {}): Commit => ({
  tenantId: 't',
  streamId: 's',
  streamRevision: 3,
  commitId: 'c',
  commitSequence: 2,
  commitStamp: new Date('2026-01-01T00:00:00.000Z'),
  checkpointToken: 9,
  headers: {},
  events: [
    { body: { type: 'A', correlationId: 'k' }, headers: {} },
    { body: { type: 'B' }, headers: { correlationId: 'from the event' } },
  ],
  ...over,
})

describe('message ids', () => {
  it('are stable, and unique across the store: the same commit id in two streams or tenants gives other ids', () => {
    const base = { tenantId: 't', streamId: 's', commitSequence: 1, commitId: 'c' }
    const ids = [
      messageId(base, 'event', 0),
      messageId(base, 'event', 1),
      messageId(base, 'command', 0),
      messageId({ ...base, streamId: 's2' }, 'event', 0),
      messageId({ ...base, tenantId: 't2' }, 'event', 0),
      messageId({ ...base, commitSequence: 2 }, 'event', 0),
      // no joining ambiguity: "a/b" + "c" is not "a" + "b/c"
      messageId({ ...base, tenantId: 'a/b', streamId: 'c' }, 'event', 0),
      messageId({ ...base, tenantId: 'a', streamId: 'b/c' }, 'event', 0),
    ]
    expect(new Set(ids).size).toBe(ids.length)
    expect(messageId(base, 'event', 0)).toBe(ids[0])
    expect(ids[0]).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/)
  })
})

describe('messagesOf', () => {
  it("gives a commit's events with revisions, indexes and correlation ids", () => {
    const ms = messagesOf(commit(), 'event')
    expect(ms.map((m) => [m.topic, m.revision, m.index, m.correlationId, m.checkpointToken])).toEqual([
      ['A', 2, 0, 'k', 9],
      ['B', 3, 1, 'from the event', 9],
    ])
  })

  it("gives a commit's saga commands in dispatch order, with the correlation id of the commit's events", () => {
    const ms = messagesOf(commit({ headers: undispatchedHeaders([{ type: 'Pay', amount: 1 }, 'plain']) }), 'command')
    expect(ms.map((m) => [m.kind, m.topic, m.body, m.index, m.revision, m.correlationId])).toEqual([
      ['command', 'Pay', { type: 'Pay', amount: 1 }, 0, 3, 'k'],
      ['command', 'command', 'plain', 1, 3, 'k'],
    ])
    expect(messagesOf(commit(), 'command')).toEqual([])
  })

  it('puts the log position and the trace context in the wire headers', () => {
    const [m] = messagesOf(commit({ headers: { traceparent: '00-abc-def-01' } }), 'event')
    const h = wireHeaders(m as never, 'fw')
    expect(h).toMatchObject({ [HEADER.token]: '9', [HEADER.revision]: '2', [HEADER.stream]: 's', [HEADER.forwarder]: 'fw', traceparent: '00-abc-def-01' })
  })
})

describe('header values and subject tokens', () => {
  it('round-trip any string, and read plainly when plain', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme' }), (s) => {
        const v = encodeHeaderValue(s)
        expect(v).toMatch(/^[\x21-\x7e]*$/)
        expect(decodeHeaderValue(v)).toBe(s)
      }),
    )
    expect(encodeHeaderValue('orders/42:x')).toBe('orders/42:x')
    expect(encodeHeaderValue('a b%\n')).toBe('a%20b%25%0A')
  })

  it('give every string one subject token, none the same for two strings, and valid in a subject', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme', minLength: 1 }), fc.string({ unit: 'grapheme', minLength: 1 }), (a, b) => {
        const ta = subjectToken(a)
        expect(subjectProblem(`x.${ta}.y`)).toBeUndefined()
        expect(ta.includes('.')).toBe(false)
        if (a !== b) expect(ta).not.toBe(subjectToken(b))
        expect(decodeURIComponent(ta)).toBe(a)
      }),
    )
    expect(subjectToken('orders.42')).toBe('orders%2E42')
    expect(subjectProblem('a..b')).toBeDefined()
    expect(subjectProblem('a.*')).toBeDefined()
    expect(subjectProblem('a b')).toBeDefined()
  })
})

describe('judging an inbound message', () => {
  const message = { id: 'm', source: 'q', subject: 'x', headers: { [HEADER.correlationId]: 'corr' }, body: new Uint8Array(), redelivered: false }
  const ok = (outcome: string) => () => () => Promise.resolve(E.right({ _tag: outcome }))
  const fails = (e: object) => () => () => Promise.resolve(E.left(e as never))
  const route = () => E.right({ streamId: 's', command: {} })

  it('acknowledges what is stored, already stored or rejected; retries what may pass; dead-letters the rest', async () => {
    expect(await judge(route, ok('Appended'), message)).toMatchObject({ kind: 'ack', report: { _tag: 'Handled', outcome: 'Appended' } })
    expect(await judge(route, ok('AlreadyCommitted'), message)).toMatchObject({ kind: 'ack', report: { _tag: 'Duplicate' } })
    expect(await judge(route, fails({ _tag: 'Rejected', error: 'no' }), message)).toMatchObject({ kind: 'ack', report: { _tag: 'Rejected', error: 'no' } })
    for (const tag of ['StorageError', 'ConcurrencyConflict', 'ConflictDetected', 'RetriesExhausted'])
      expect((await judge(route, fails({ _tag: tag }), message)).kind).toBe('retry')
    for (const tag of ['InvalidAttempt', 'WrongExpectedVersion', 'HookRejected', 'DecodeError', 'StreamNotFound', 'InvalidArgument'])
      expect((await judge(route, fails({ _tag: tag, reason: 'why' }), message)).kind).toBe('dead-letter')
    expect(await judge(() => E.left('bad body'), ok('Appended'), message)).toEqual({ kind: 'dead-letter', reason: 'bad body' })
    expect(
      (
        await judge(
          () => {
            throw new Error('boom')
          },
          ok('Appended'),
          message,
        )
      ).kind,
    ).toBe('dead-letter')
    expect(
      (
        await judge(route, () => () => {
          throw new Error('boom')
        }, message)
      ).kind,
    ).toBe('retry')
  })

  it('hands the repository the commit id derived from the message id, and the correlation id', async () => {
    let seen: unknown
    await judge(
      route,
      (_id, _c, options) => () => {
        seen = options
        return Promise.resolve(E.right({ _tag: 'Appended' }))
      },
      message,
    )
    expect(seen).toEqual({ commitId: commitIdOfMessage('m'), headers: { 'aett.message.id': 'm', correlationId: 'corr' } })
  })
})

describe('the broker clients', () => {
  const src = fileURLToPath(new URL('../../src', import.meta.url))
  const files = (dir: string): string[] => readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? files(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : []))

  it('are named only by their own entry point, and imported there only lazily or as types', () => {
    const clients: Record<string, string> = { '@nats-io/transport-node': 'nats', '@nats-io/jetstream': 'nats', amqplib: 'rabbitmq' }
    const bad: string[] = []
    for (const file of files(src)) {
      const text = readFileSync(file, 'utf8')
      const area = file.slice(src.length + 1).split('/')[0]
      for (const [client, owner] of Object.entries(clients)) {
        const named = text.includes(`'${client}'`)
        const eager = new RegExp(`(?:^|\\n)\\s*import\\s+(?!type\\b)[^'";]*from\\s+'${client.replace('/', '\\/')}'`).test(text)
        if (named && area !== owner) bad.push(`${file} names ${client}`)
        if (eager) bad.push(`${file} imports ${client} eagerly`)
      }
    }
    expect(bad).toEqual([])
  })
})
