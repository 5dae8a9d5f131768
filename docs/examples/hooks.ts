import * as E from 'fp-ts/lib/Either.js'
import { deciderRepository } from 'aett/domain'
import { rejectCommit, toArray, withHooks, type Commit, type EventMessage, type PipelineHook } from 'aett/eventstore'
import { memoryStore } from 'aett/memory'
import { account } from './deciders.js'
import { accountTopics } from './events.js'

// ----- pre-commit: a policy every commit must pass, or nothing is stored -----

export const requireUser: PipelineHook = {
  name: 'require-user',
  preCommit: (attempt) =>
    typeof attempt.headers['user'] === 'string' ? undefined : rejectCommit('every commit names its user', { header: 'user' }),
}

// ----- post-commit, purge and delete: an outbox, and a cache kept in step with the store -----

export const outbox = (sent: Commit[]): PipelineHook => ({ name: 'outbox', postCommit: (commit) => void sent.push(commit) })

export const balanceCache = (cache: Map<string, number>): PipelineHook => ({
  name: 'balance-cache',
  postCommit: (c) => cache.delete(`${c.tenantId}/${c.streamId}`),
  onDeleteStream: (tenantId, streamId) => cache.delete(`${tenantId}/${streamId}`),
  onPurge: (tenantId) => {
    for (const key of cache.keys()) if (tenantId === undefined || key.startsWith(`${tenantId}/`)) cache.delete(key)
  },
})

// ----- select: every read path hands out commits as these hooks make them -----

/** Hides archived streams from every read (they stay stored, for the audit, and are never written again). */
export const hideArchived = (archived: ReadonlySet<string>): PipelineHook => ({
  name: 'hide-archived',
  select: (c) => (archived.has(c.streamId) ? undefined : c),
})

/** Redacts the owner of accounts whose owners asked to be forgotten. */
export const redactOwners = (forgotten: ReadonlySet<string>): PipelineHook => ({
  name: 'redact-owners',
  select: (c) => {
    if (!forgotten.has(c.streamId)) return c
    const redact = (m: EventMessage): EventMessage => (m.body.type === 'AccountOpened' ? { ...m, body: { ...m.body, owner: '(forgotten)' } } : m)
    return { ...c, events: c.events.map(redact) }
  },
})

export async function main() {
  const raw = memoryStore()
  const sent: Commit[] = []
  const cache = new Map<string, number>([['default/acc-1', 0]])
  // The hooks run in this order; the result is still a store, for repositories and subscriptions alike.
  const archived = new Set<string>()
  const store = withHooks(raw, [requireUser, outbox(sent), balanceCache(cache), hideArchived(archived), redactOwners(new Set(['acc-2']))])
  const accounts = deciderRepository({ decider: account, topics: accountTopics, store })
  const at = new Date('2026-03-01T09:00:00.000Z')

  // A command without a user is refused by the pre-commit hook: nothing is stored, the outbox hears nothing.
  const refused = await accounts.handle('acc-1', { kind: 'open', accountId: 'acc-1', owner: 'Ada', at })()
  const asUser = { headers: { user: 'ann' } }
  await accounts.handle('acc-1', { kind: 'open', accountId: 'acc-1', owner: 'Ada', at }, asUser)()
  await accounts.handle('acc-1', { kind: 'deposit', amount: 50, at }, asUser)()
  await accounts.handle('acc-2', { kind: 'open', accountId: 'acc-2', owner: 'Grace', at }, asUser)()
  await accounts.handle('acc-3', { kind: 'open', accountId: 'acc-3', owner: 'Linus', at }, asUser)()
  archived.add('acc-3')
  const balance = await accounts.load('acc-1')()
  const archivedAccount = await accounts.load('acc-3')()

  // Reads through the hooks see the redacted owner; the store itself keeps what was written.
  const owners = async (commits: Promise<E.Either<unknown, Commit[]>>) =>
    E.map((cs: Commit[]) => cs.flatMap((c) => c.events.map((m) => m.body['owner'])).filter((o) => o !== undefined))(await commits)

  const seen = await owners(toArray(store.getFrom(0)))
  const stored = await owners(toArray(raw.getFrom(0)))

  // Deleting a stream through the hooks tells the cache.
  cache.set('default/acc-2', 0)
  await store.deleteStream('default', 'acc-2')

  return {
    refused: E.isLeft(refused) ? refused.left : undefined,
    balance: E.map((s: { readonly state: { readonly balance: number } }) => s.state.balance)(balance),
    archivedIsOpen: E.map((s: { readonly state: { readonly open: boolean } }) => s.state.open)(archivedAccount),
    outbox: sent.map((c) => `${c.streamId}#${c.commitSequence} by ${String(c.headers['user'])}`),
    seen,
    stored,
    cached: [...cache.keys()],
  }
}
