import type { AddressInfo } from 'node:net'
import * as E from 'fp-ts/lib/Either.js'
import { afterEach, describe, expect, it } from 'vitest'
import { bankServer, main } from '../../docs/examples/http.js'
import type { CommitAttempt, Persistence } from '../../src/eventstore/index.js'
import { toArray } from '../../src/eventstore/index.js'
import { memoryStore } from '../../src/memory/index.js'
import { docsPage, exampleCode } from './pages.js'

// docs/http.md: the ETag / If-Match mapping, against a real server on an ephemeral port of 127.0.0.1.

const servers: ReturnType<typeof bankServer>[] = []

const start = async (store: Persistence = memoryStore()) => {
  const server = bankServer(store)
  servers.push(server)
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  const call = async (path: string, init: RequestInit = {}) => {
    const res = await fetch(`${base}${path}`, init)
    const text = await res.text()
    return { status: res.status, etag: res.headers.get('etag'), type: res.headers.get('content-type'), location: res.headers.get('location'), body: text === '' ? null : (JSON.parse(text) as Record<string, unknown>) }
  }
  const post = (id: string, body: unknown, headers: Record<string, string> = {}) =>
    call(`/accounts/${id}/commands`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) })
  return { call, post, store }
}

afterEach(async () => {
  for (const s of servers.splice(0)) {
    s.closeAllConnections()
    await new Promise((resolve) => s.close(resolve))
  }
})

const commits = async (store: Persistence, id: string) => {
  const r = await toArray(store.get('default', id))
  if (E.isLeft(r)) throw new Error(r.left.message)
  return r.right
}

describe('docs/http.md example', () => {
  it('runs the conversation shown', async () => {
    const r = await main()
    expect([r.opened, r.read, r.deposited, r.unconditional, r.stale, r.withdrawn, r.refused].map((x) => x.status)).toEqual([201, 200, 200, 428, 412, 200, 422])
    expect([r.opened.etag, r.read.etag, r.deposited.etag, r.stale.etag, r.withdrawn.etag]).toEqual(['"1"', '"1"', '"2"', '"2"', '"3"'])
    expect(r.read.body).toEqual({ id: 'acc-1', open: true, balance: 0 })
    expect(r.stale.body).toEqual({ type: 'https://bank.example/problems/wrong-expected-version', title: 'The account changed since you read it', status: 412, expected: 1, actual: 2 })
    expect(r.refused.contentType).toBe('application/problem+json')
    expect(r.refused.body).toEqual({
      type: 'https://bank.example/problems/insufficient-funds',
      title: 'The account refused the command',
      status: 422,
      balance: 70,
      requested: 500,
    })
  })

  it('is shown whole in docs/http.md', () => {
    expect(docsPage('http.md')).toContain(exampleCode('http.ts'))
  })
})

describe('the HTTP mapping', () => {
  it('creates with If-None-Match: * (201, Location, ETag) and answers 412 when the account exists already', async () => {
    // given a server
    const { post } = await start()
    // when an account is opened twice, each time only if it does not exist
    const created = await post('acc-1', { kind: 'open', owner: 'Ada' }, { 'if-none-match': '*' })
    const again = await post('acc-1', { kind: 'open', owner: 'Bo' }, { 'if-none-match': '*' })
    // then the first is created and the second fails its precondition, naming the current revision
    expect([created.status, created.etag, created.location]).toEqual([201, '"1"', '/accounts/acc-1'])
    expect([again.status, again.etag, again.type]).toEqual([412, '"1"', 'application/problem+json'])
  })

  it('requires a precondition where one is required (428), and not for deposits', async () => {
    // given an open account
    const { post } = await start()
    await post('acc-1', { kind: 'open', owner: 'Ada' }, { 'if-none-match': '*' })
    // when a withdrawal and an open come without a precondition, and a deposit does too
    const withdraw = await post('acc-1', { kind: 'withdraw', amount: 1 })
    const open = await post('acc-2', { kind: 'open', owner: 'Bo' })
    const deposit = await post('acc-1', { kind: 'deposit', amount: 5 })
    // then the first two are 428 problems, the deposit lands
    expect([withdraw.status, withdraw.body?.['type']]).toEqual([428, 'https://bank.example/problems/precondition-required'])
    expect(open.status).toBe(428)
    expect([deposit.status, deposit.etag]).toEqual([200, '"2"'])
  })

  it('compares strongly: a weak tag never matches; a list or * is checked against the current revision', async () => {
    // given an account at revision 2
    const { post } = await start()
    await post('acc-1', { kind: 'open', owner: 'Ada' }, { 'if-none-match': '*' })
    await post('acc-1', { kind: 'deposit', amount: 50 })
    // when withdrawals carry a weak tag, a list holding the current tag, and *
    const weak = await post('acc-1', { kind: 'withdraw', amount: 1 }, { 'if-match': 'W/"2"' })
    const list = await post('acc-1', { kind: 'withdraw', amount: 1 }, { 'if-match': '"7", "2"' })
    const any = await post('acc-1', { kind: 'withdraw', amount: 1 }, { 'if-match': '*' })
    const anyMissing = await post('nobody', { kind: 'withdraw', amount: 1 }, { 'if-match': '*' })
    // then the weak one fails, the others land one after the other, and * on a missing account fails
    expect([weak.status, weak.etag]).toEqual([412, '"2"'])
    expect([list.status, list.etag]).toEqual([200, '"3"'])
    expect([any.status, any.etag]).toEqual([200, '"4"'])
    expect([anyMissing.status, anyMissing.etag]).toEqual([412, null])
  })

  it('lets exactly one of 10 concurrent requests with the same If-Match through; the others get 412 and the new ETag', async () => {
    // given an account at revision 2 with a balance of 100
    const { post, store } = await start()
    await post('acc-1', { kind: 'open', owner: 'Ada' }, { 'if-none-match': '*' })
    await post('acc-1', { kind: 'deposit', amount: 100 })
    // when ten withdrawals of 60 all send If-Match: "2" at once (a hand-written check-then-act would let several through)
    const answers = await Promise.all(Array.from({ length: 10 }, () => post('acc-1', { kind: 'withdraw', amount: 60 }, { 'if-match': '"2"' })))
    // then one withdrew, nine were told the account is at revision 3 now, and the balance never went below 0
    expect(answers.filter((a) => a.status === 200)).toHaveLength(1)
    const refused = answers.filter((a) => a.status === 412)
    expect(refused).toHaveLength(9)
    for (const a of refused) expect([a.etag, a.body?.['actual']]).toEqual(['"3"', 3])
    expect(await commits(store, 'acc-1')).toHaveLength(3)
  })

  it('answers 409 with a problem when a concurrent change is reported as a conflict', async () => {
    // given a store where another deposit lands just before ours (two deposits conflict by default)
    const store = memoryStore()
    const commit = store.commit.bind(store)
    let slipped = false
    const racing: Persistence = Object.assign(store, {
      commit: async (attempt: CommitAttempt) => {
        if (attempt.streamRevision === 2 && !slipped) {
          slipped = true
          const body = { type: 'Deposited', id: 'acc-1', version: 2, timestamp: '2026-03-01T09:00:00.000Z', amount: 1 }
          await commit({ ...attempt, commitId: 'theirs', events: [{ body, headers: {} }], headers: {} })
        }
        return commit(attempt)
      },
    })
    const { post } = await start(racing)
    await post('acc-1', { kind: 'open', owner: 'Ada' }, { 'if-none-match': '*' })
    // when a deposit without a precondition is sent
    const answer = await post('acc-1', { kind: 'deposit', amount: 5 })
    // then it is a 409 problem, and only the other deposit is stored
    expect([answer.status, answer.type, answer.body?.['type']]).toEqual([409, 'application/problem+json', 'https://bank.example/problems/conflict-detected'])
    expect((await commits(store, 'acc-1')).map((c) => c.commitId)).toContain('theirs')
    expect(await commits(store, 'acc-1')).toHaveLength(2)
  })

  it('stores a change once per Idempotency-Key, answering a repeat with the current ETag', async () => {
    // given an open account
    const { post, store } = await start()
    await post('acc-1', { kind: 'open', owner: 'Ada' }, { 'if-none-match': '*' })
    // when the same deposit is sent twice with one key
    const first = await post('acc-1', { kind: 'deposit', amount: 5 }, { 'idempotency-key': 'k-1' })
    const repeat = await post('acc-1', { kind: 'deposit', amount: 5 }, { 'idempotency-key': 'k-1' })
    // then it was stored once
    expect([first.status, first.etag]).toEqual([200, '"2"'])
    expect([repeat.status, repeat.etag, repeat.body?.['repeated']]).toEqual([200, '"2"', true])
    expect(await commits(store, 'acc-1')).toHaveLength(2)
  })

  it('answers 400, 404 and 405 as problems', async () => {
    // given a server
    const { call, post } = await start()
    // when it gets a bad command, an unknown account and a wrong method
    const bad = await post('acc-1', { kind: 'deposit', amount: Number.NaN })
    const unknown = await call('/accounts/nobody')
    const method = await call('/accounts/acc-1', { method: 'DELETE' })
    // then each is a problem of its own type
    expect([bad.status, bad.body?.['type']]).toEqual([400, 'https://bank.example/problems/invalid-command'])
    expect([unknown.status, unknown.body?.['type']]).toEqual([404, 'https://bank.example/problems/stream-not-found'])
    expect([method.status, method.type]).toEqual([405, 'application/problem+json'])
  })
})
