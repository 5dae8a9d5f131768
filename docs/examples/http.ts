import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import * as E from 'fp-ts/lib/Either.js'
import { commitIdFrom, deciderRepository, type EventStore, type HandleError, type HandleOptions } from 'aett/domain'
import { matchError } from 'aett/eventstore'
import { memoryStore } from 'aett/memory'
import { account, type AccountCommand, type AccountRefusal } from './deciders.js'
import { accountTopics } from './events.js'

// ----- answers: a JSON body, or an RFC 9457 problem; a strong ETag "<revision>" where the revision is known -----

interface Answer {
  readonly status: number
  readonly body: unknown
  readonly revision?: number
  readonly problem?: boolean
  readonly location?: string
}

// One problem type per error tag; `.example` is a domain reserved for examples: use your own.
const problemType = (tag: string): string => `https://bank.example/problems/${tag.replace(/(?<!^)([A-Z])/g, '-$1').toLowerCase()}`

const problem = (status: number, tag: string, title: string, extensions: object = {}): Answer => ({
  status,
  problem: true,
  body: { type: problemType(tag), title, status, ...extensions },
})

/** Every way handling a command can fail, as HTTP; a tag left out (or added to the kit) does not compile. */
const failure = matchError<HandleError<AccountRefusal>, Answer>({
  Rejected: ({ error: { _tag, ...details } }) => problem(422, _tag, 'The account refused the command', details),
  WrongExpectedVersion: (e) => ({
    ...problem(412, e._tag, 'The account changed since you read it', { expected: e.expected, actual: e.actual }),
    revision: e.actual,
  }),
  ConflictDetected: (e) => problem(409, e._tag, 'A concurrent change conflicts with this one: read again and retry'),
  RetriesExhausted: (e) => problem(409, e._tag, 'Too many concurrent changes: retry later'),
  ConcurrencyConflict: (e) => problem(409, e._tag, 'A concurrent change got there first'),
  DuplicateCommit: (e) => problem(409, e._tag, 'This change is stored already'),
  InvalidAttempt: (e) => problem(400, e._tag, 'The command led to events that cannot be stored'),
  InvalidArgument: (e) => problem(400, e._tag, 'A value in the request means nothing'),
  StreamNotFound: (e) => problem(404, e._tag, 'No such account'),
  PartialStream: (e) => problem(500, e._tag, 'The account was read partially'),
  DecodeError: (e) => problem(500, e._tag, 'A stored event does not decode'),
  UnknownTopic: (e) => problem(500, e._tag, 'A stored event has no codec'),
  StorageError: (e) => problem(503, e._tag, 'Storage is unavailable'),
  HookRejected: (e) => problem(422, e._tag, 'A policy of the store refused the change', { reason: e.reason }),
})

// ----- requests -----

const readJson = async (req: IncomingMessage): Promise<unknown> => {
  const chunks: Buffer[] = []
  for await (const chunk of req) chunks.push(chunk as Buffer)
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8'))
  } catch {
    return undefined
  }
}

const toCommand = (accountId: string, body: unknown, at: Date): AccountCommand | undefined => {
  const b = (typeof body === 'object' && body !== null ? body : {}) as Record<string, unknown>
  if (b['kind'] === 'open' && typeof b['owner'] === 'string') return { kind: 'open', accountId, owner: b['owner'], at }
  const amount = b['amount']
  if ((b['kind'] === 'deposit' || b['kind'] === 'withdraw') && typeof amount === 'number' && Number.isFinite(amount) && amount > 0) {
    return { kind: b['kind'], amount, at }
  }
  return undefined
}

/** The revisions an `If-Match` accepts: `*` (any, once the account exists) or its strong tags; weak tags never match. */
const accepted = (ifMatch: string): '*' | number[] =>
  ifMatch.trim() === '*' ? '*' : ifMatch.split(',').flatMap((tag) => /^\s*"(\d+)"\s*$/.exec(tag)?.[1] ?? []).map(Number)

export const bankServer = (store: EventStore): Server => {
  const accounts = deciderRepository({ decider: account, topics: accountTopics, store })

  const current = async (id: string): Promise<E.Either<Answer, number>> =>
    E.bimap(failure, (s: { readonly version: number }) => s.version)(await accounts.load(id)())

  /**
   * The expected version a command runs with. Deposits commute, so they need no precondition; every other command
   * must say which revision it was decided on (`If-Match`), or that the account must not exist yet
   * (`If-None-Match: *`), else 428. A list of tags or `*` is checked against the current revision, which then
   * becomes the expected version: the append is conditioned on it, so the check cannot race.
   */
  const expectation = async (req: IncomingMessage, id: string, command: AccountCommand): Promise<E.Either<Answer, HandleOptions>> => {
    if (req.headers['if-none-match']?.trim() === '*') return E.right({ expectedVersion: 0 })
    const ifMatch = req.headers['if-match']
    if (ifMatch === undefined) {
      if (command.kind === 'deposit') return E.right({})
      return E.left(problem(428, 'PreconditionRequired', 'Say which revision this is based on: If-Match: "<revision>"'))
    }
    const tags = accepted(ifMatch)
    if (tags !== '*' && tags.length === 1) return E.right({ expectedVersion: tags[0] as number })
    const now = await current(id)
    if (E.isLeft(now)) return now
    const ok = tags === '*' ? now.right > 0 : tags.includes(now.right)
    if (ok) return E.right({ expectedVersion: now.right })
    return E.left({ ...problem(412, 'WrongExpectedVersion', 'The account changed since you read it', { actual: now.right }), revision: now.right })
  }

  const get = async (id: string): Promise<Answer> => {
    const loaded = await accounts.load(id)()
    if (E.isLeft(loaded)) return failure(loaded.left)
    if (loaded.right.version === 0) return problem(404, 'StreamNotFound', 'No such account')
    const { open, balance } = loaded.right.state
    return { status: 200, body: { id, open, balance }, revision: loaded.right.version }
  }

  const post = async (req: IncomingMessage, id: string): Promise<Answer> => {
    const command = toCommand(id, await readJson(req), new Date())
    if (command === undefined) return problem(400, 'InvalidCommand', 'Send {"kind":"open","owner":…} or {"kind":"deposit"|"withdraw","amount":…}')
    const expected = await expectation(req, id, command)
    if (E.isLeft(expected)) return expected.left
    // A client that retries with the same Idempotency-Key gets the same change, stored once.
    const key = req.headers['idempotency-key']
    const options = typeof key === 'string' ? { ...expected.right, commitId: commitIdFrom(`${id}/${key}`) } : expected.right
    const handled = await accounts.handle(id, command, options)()
    if (E.isLeft(handled)) return failure(handled.left)
    const outcome = handled.right
    switch (outcome._tag) {
      case 'Appended': {
        const answer = { status: 200, body: { balance: outcome.state.balance }, revision: outcome.revision }
        return command.kind === 'open' ? { ...answer, status: 201, location: `/accounts/${encodeURIComponent(id)}` } : answer
      }
      case 'NothingToDo':
        return { status: 200, body: { balance: outcome.state.balance }, revision: outcome.revision }
      case 'AlreadyCommitted': {
        const now = await get(id)
        return { ...now, body: { ...(now.body as object), repeated: true } }
      }
    }
  }

  const route = async (req: IncomingMessage): Promise<Answer> => {
    const [, collection, raw, action, ...rest] = new URL(req.url ?? '/', 'http://localhost').pathname.split('/')
    if (collection !== 'accounts' || raw === undefined || raw === '' || rest.length > 0) return problem(404, 'NotFound', 'No such resource')
    const id = decodeURIComponent(raw) // a malformed escape throws: answered 500 below, like any other throw
    if (action === undefined && req.method === 'GET') return get(id)
    if (action === 'commands' && req.method === 'POST') return post(req, id)
    return problem(405, 'MethodNotAllowed', 'GET /accounts/<id> or POST /accounts/<id>/commands')
  }

  const send = (res: ServerResponse, answer: Answer): void => {
    res.statusCode = answer.status
    res.setHeader('content-type', answer.problem === true ? 'application/problem+json' : 'application/json')
    // An account with no events has no representation, hence no ETag.
    if (answer.revision !== undefined && answer.revision > 0) res.setHeader('etag', `"${answer.revision}"`)
    if (answer.location !== undefined) res.setHeader('location', answer.location)
    res.end(JSON.stringify(answer.body))
  }

  return createServer((req, res) => {
    route(req).then(
      (answer) => send(res, answer),
      () => send(res, problem(500, 'InternalError', 'Something went wrong')),
    )
  })
}

// ----- a short conversation with the server -----

/** A request and what came back: status, ETag and the body read whole. */
const call = async (url: string, init: RequestInit = {}) => {
  const res = await fetch(url, init)
  return { status: res.status, etag: res.headers.get('etag'), contentType: res.headers.get('content-type'), body: await res.json() }
}

export async function main() {
  const server = bankServer(memoryStore())
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/accounts/acc-1`
  const post = (body: unknown, headers: Record<string, string> = {}) =>
    call(`${base}/commands`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) })
  try {
    const opened = await post({ kind: 'open', owner: 'Ada' }, { 'if-none-match': '*' }) // 201, ETag "1"
    const read = await call(base) // 200, ETag "1"
    const deposited = await post({ kind: 'deposit', amount: 100 }) // 200, ETag "2": deposits need no precondition
    const unconditional = await post({ kind: 'withdraw', amount: 30 }) // 428
    const stale = await post({ kind: 'withdraw', amount: 30 }, { 'if-match': read.etag ?? '' }) // 412, ETag "2"
    const withdrawn = await post({ kind: 'withdraw', amount: 30 }, { 'if-match': stale.etag ?? '' }) // 200, ETag "3"
    const refused = await post({ kind: 'withdraw', amount: 500 }, { 'if-match': withdrawn.etag ?? '' }) // 422 problem
    return { opened, read, deposited, unconditional, stale, withdrawn, refused }
  } finally {
    server.closeAllConnections()
    await new Promise((resolve) => server.close(resolve))
  }
}
