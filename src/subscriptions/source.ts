import * as E from 'fp-ts/lib/Either.js'
import type { Commit } from '../eventstore/Commit.js'
import type { Json } from '../eventstore/Json.js'
import type { DecodeFailed, FilterFailed } from './errors.js'
import type { DecodedCommit, DecodedEvent, DecodeOptions, Source } from './options.js'
import { toJson } from './json.js'

/** What becomes of one commit before the handler runs. */
export type Prepared<A> =
  /** Not for this subscription (the source does not match, or nothing decoded was left): the checkpoint moves over it. */
  | { readonly kind: 'skip' }
  | { readonly kind: 'deliver'; readonly item: A }
  /** Set aside by policy (it did not decode, or the filter threw), with why. */
  | { readonly kind: 'park'; readonly error: Json }
  /** Stops the subscription by policy. */
  | { readonly kind: 'fail'; readonly error: DecodeFailed | FilterFailed }

const topicOf = (body: unknown): unknown => (typeof body === 'object' && body !== null ? (body as { type?: unknown }).type : undefined)

/** Whether a stored topic is selected: by its own name, or (with a topic map) by the current name of a renamed topic. */
const selected = <Ev extends { readonly type: string }>(topics: ReadonlySet<string>, decode: DecodeOptions<Ev> | undefined, topic: unknown): boolean => {
  if (typeof topic !== 'string') return false
  if (topics.has(topic)) return true
  const current = decode?.topics.currentTopic(topic)
  return current !== undefined && topics.has(current)
}

/** Whether a commit is one the source selects; a throwing `filter` is answered as a `Left` with what it threw. */
const matches = <Ev extends { readonly type: string }>(
  source: Source,
  topics: ReadonlySet<string> | undefined,
  decode: DecodeOptions<Ev> | undefined,
  commit: Commit,
): E.Either<unknown, boolean> => {
  if (source.streamPrefix !== undefined && !commit.streamId.startsWith(source.streamPrefix)) return E.right(false)
  if (topics !== undefined && !commit.events.some((m) => selected(topics, decode, topicOf(m.body)))) return E.right(false)
  if (source.filter === undefined) return E.right(true)
  try {
    return E.right(source.filter(commit) === true)
  } catch (thrown) {
    return E.left(thrown)
  }
}

/**
 * Builds the step that prepares each commit: the source's filter, then decoding when asked. A subscription
 * without `decode` hands its handler the stored commits as they are.
 */
export const preparer = <Ev extends { readonly type: string }>(
  name: string,
  source: Source,
  onFailure: 'stop' | 'park',
  decode: DecodeOptions<Ev> | undefined,
): ((commit: Commit) => Prepared<Commit | DecodedCommit<Ev>>) => {
  const topics = source.topics === undefined ? undefined : new Set(source.topics)
  return (commit) => {
    const matched = matches(source, topics, decode, commit)
    if (E.isLeft(matched)) {
      return onFailure === 'park'
        ? { kind: 'park', error: { _tag: 'FilterFailed', thrown: toJson(matched.left) } }
        : { kind: 'fail', error: { _tag: 'FilterFailed', name, checkpointToken: commit.checkpointToken, thrown: matched.left } }
    }
    if (!matched.right) return { kind: 'skip' }
    if (decode === undefined) return { kind: 'deliver', item: commit }
    const events: DecodedEvent<Ev>[] = []
    for (const m of commit.events) {
      if (topics !== undefined && !selected(topics, decode, topicOf(m.body))) continue
      // The whole message, so that its schema version (event headers) upcasts it to the current shape.
      const d = decode.topics.decodeMessage(m)
      if (E.isRight(d)) {
        events.push({ event: d.right, headers: m.headers })
        continue
      }
      if (decode.onError === 'skip') continue
      if (decode.onError === 'park') return { kind: 'park', error: toJson(d.left) }
      const error: DecodeFailed = {
        _tag: 'DecodeFailed',
        name,
        checkpointToken: commit.checkpointToken,
        tenantId: commit.tenantId,
        streamId: commit.streamId,
        error: d.left,
      }
      return { kind: 'fail', error }
    }
    if (events.length === 0) return { kind: 'skip' }
    const { events: _, ...metadata } = commit
    return { kind: 'deliver', item: { ...metadata, events } }
  }
}
