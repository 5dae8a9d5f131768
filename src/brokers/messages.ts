import type { Commit } from '../eventstore/Commit.js'
import { firstRevision } from '../eventstore/Commit.js'
import type { Headers, Json } from '../eventstore/Json.js'
import { commitIdFrom } from '../domain/commitId.js'
import { UNDISPATCHED_PREFIX } from '../domain/sagaHeaders.js'

// -------------------------------------------------------------------------------------
// model
// -------------------------------------------------------------------------------------

/** What a forwarder sends: each event of a commit, or each saga command stored with it (`UndispatchedMessage.<n>`). */
export type MessageKind = 'event' | 'command'

/**
 * One message a forwarder sends, before the broker's own framing: the event or command, where it comes from in the
 * log, and a stable id. The same commit always gives the same messages with the same ids, so a message sent again
 * (after a crash, a broker failure) is the same message, which the broker (JetStream) or the receiver (a repository
 * whose commit id is derived from the message id) recognises.
 */
export interface OutboundMessage {
  /** Stable and unique across the store: see `messageId`. */
  readonly id: string
  readonly kind: MessageKind
  /** The event's `type`, or the command's `type` (`'command'` for a command without a string `type`). */
  readonly topic: string
  /** The event body as stored, or the command as stored in the commit header. */
  readonly body: Json
  readonly tenantId: string
  readonly streamId: string
  /** The event's stream revision; for a command, the revision of its commit's last event. */
  readonly revision: number
  readonly commitId: string
  readonly commitSequence: number
  readonly checkpointToken: number
  readonly commitStamp: Date
  /** The event's position in its commit, from 0; a command's `n` in its `UndispatchedMessage.<n>` header. */
  readonly index: number
  readonly correlationId: string | undefined
  /** The event's own headers (`{}` for a command). */
  readonly headers: Headers
  /** The commit's headers (a saga's commands among them). */
  readonly commitHeaders: Headers
}

/**
 * The headers every forwarded message carries (values are strings; on NATS, `%` and every character outside printable
 * ASCII are percent-encoded, see `encodeHeaderValue`). `traceparent`/`tracestate` are copied from the commit's headers
 * when they are strings (`aett/otel` writes them), so that a trace goes on across the broker.
 */
export const HEADER = {
  messageId: 'Aett-Message-Id',
  kind: 'Aett-Kind',
  topic: 'Aett-Topic',
  tenant: 'Aett-Tenant',
  stream: 'Aett-Stream',
  revision: 'Aett-Revision',
  commitId: 'Aett-Commit-Id',
  commitSequence: 'Aett-Commit-Sequence',
  commitStamp: 'Aett-Commit-Stamp',
  token: 'Aett-Token',
  index: 'Aett-Index',
  correlationId: 'Aett-Correlation-Id',
  /** The forwarder's name: a restarting JetStream forwarder finds its own messages in a shared stream by it. */
  forwarder: 'Aett-Forwarder',
  /** On a dead-lettered message: why it could not be handled. */
  deadLetterReason: 'Aett-Dead-Letter-Reason',
  /** On a dead-lettered message: where it came from (subject or queue) and its id there. */
  deadLetterSource: 'Aett-Dead-Letter-Source',
  deadLetterMessageId: 'Aett-Dead-Letter-Message-Id',
} as const

// -------------------------------------------------------------------------------------
// ids
// -------------------------------------------------------------------------------------

/**
 * The id of message `index` of `kind` in a commit: a name-based UUID over the tenant, the stream, the commit's
 * sequence and id, the kind and the index. A commit id is unique only within its stream (SEMANTICS 4), so the tenant
 * and stream are part of the key; the sequence is too, so that a stream deleted and written again with the same
 * commit ids gets new message ids only where its commits differ in place. The same commit always gives the same ids,
 * whichever process or store connection forwards it.
 */
export const messageId = (
  commit: Pick<Commit, 'tenantId' | 'streamId' | 'commitSequence' | 'commitId'>,
  kind: MessageKind,
  index: number,
): string => commitIdFrom(JSON.stringify(['aett.message', commit.tenantId, commit.streamId, commit.commitSequence, commit.commitId, kind, index]))

// -------------------------------------------------------------------------------------
// messages of a commit
// -------------------------------------------------------------------------------------

const stringField = (u: unknown, field: string): string | undefined => {
  if (typeof u !== 'object' || u === null || Array.isArray(u)) return undefined
  const v = (u as Record<string, unknown>)[field]
  return typeof v === 'string' ? v : undefined
}

/**
 * The correlation id a message carries by default: the body's `correlationId` (domain events have one), else the
 * event's `correlationId` header, else the commit's.
 */
export const defaultCorrelationId = (body: Json, headers: Headers, commitHeaders: Headers): string | undefined =>
  stringField(body, 'correlationId') ?? stringField(headers, 'correlationId') ?? stringField(commitHeaders, 'correlationId')

/** A commit's saga commands with the `n` of their `UndispatchedMessage.<n>` header, in dispatch order. */
const storedCommands = (headers: Headers): { readonly index: number; readonly command: Json }[] =>
  Object.entries(headers)
    .filter(([k]) => k.startsWith(UNDISPATCHED_PREFIX) && /^\d+$/.test(k.slice(UNDISPATCHED_PREFIX.length)))
    .map(([k, command]) => ({ index: Number(k.slice(UNDISPATCHED_PREFIX.length)), command }))
    .sort((a, b) => a.index - b.index)

/**
 * The messages a commit gives: its events, or the saga commands stored with it, in order. A command's `index` is the
 * `n` of its `UndispatchedMessage.<n>` header (as `aett/sagas` numbers them).
 */
export const messagesOf = (commit: Commit, kind: MessageKind): OutboundMessage[] => {
  const common = {
    tenantId: commit.tenantId,
    streamId: commit.streamId,
    commitId: commit.commitId,
    commitSequence: commit.commitSequence,
    checkpointToken: commit.checkpointToken,
    commitStamp: commit.commitStamp,
    commitHeaders: commit.headers,
  }
  if (kind === 'event') {
    const first = firstRevision(commit)
    return commit.events.map((e, index) => ({
      ...common,
      id: messageId(commit, 'event', index),
      kind,
      topic: e.body.type,
      body: e.body,
      revision: first + index,
      index,
      correlationId: defaultCorrelationId(e.body, e.headers, commit.headers),
      headers: e.headers,
    }))
  }
  // A command without a correlation id of its own takes the first one found on the commit's events.
  const fromEvents = commit.events.map((e) => defaultCorrelationId(e.body, e.headers, commit.headers)).find((c) => c !== undefined)
  return storedCommands(commit.headers).map(({ index, command }) => ({
    ...common,
    id: messageId(commit, 'command', index),
    kind,
    topic: stringField(command, 'type') ?? 'command',
    body: command,
    revision: commit.streamRevision,
    index,
    correlationId: stringField(command, 'correlationId') ?? fromEvents,
    headers: {},
  }))
}

/** A message's headers on the wire, as plain strings (not yet escaped for a broker). */
export const wireHeaders = (m: OutboundMessage, forwarder: string): Record<string, string> => {
  const out: Record<string, string> = {
    [HEADER.messageId]: m.id,
    [HEADER.kind]: m.kind,
    [HEADER.topic]: m.topic,
    [HEADER.tenant]: m.tenantId,
    [HEADER.stream]: m.streamId,
    [HEADER.revision]: String(m.revision),
    [HEADER.commitId]: m.commitId,
    [HEADER.commitSequence]: String(m.commitSequence),
    [HEADER.commitStamp]: m.commitStamp.toISOString(),
    [HEADER.token]: String(m.checkpointToken),
    [HEADER.index]: String(m.index),
    [HEADER.forwarder]: forwarder,
  }
  if (m.correlationId !== undefined) out[HEADER.correlationId] = m.correlationId
  for (const trace of ['traceparent', 'tracestate']) {
    const v = m.headers[trace] ?? m.commitHeaders[trace]
    if (typeof v === 'string') out[trace] = v
  }
  return out
}

/** The body on the wire: the event or command as JSON, in UTF-8. */
export const bodyBytes = (m: OutboundMessage): Buffer => Buffer.from(JSON.stringify(m.body), 'utf8')

// -------------------------------------------------------------------------------------
// header values
// -------------------------------------------------------------------------------------

const plain = /^[\x21-\x24\x26-\x7e]*$/

/**
 * A header value safe on any wire that takes ASCII header lines (NATS): `%`, spaces, control characters and every
 * character outside ASCII become UTF-8 percent-escapes; everything else stays as it is, so `acc-1`, `orders/42` and
 * ISO times read plainly. `decodeHeaderValue` gives the string back exactly.
 */
export const encodeHeaderValue = (s: string): string => {
  if (plain.test(s)) return s
  let out = ''
  for (const ch of s) {
    const code = ch.codePointAt(0) as number
    if (code >= 0x21 && code <= 0x7e && ch !== '%') out += ch
    else if (code >= 0xd800 && code <= 0xdfff) out += '%EF%BF%BD' // a lone surrogate (not storable as an id): U+FFFD
    else out += encodeURIComponent(ch)
  }
  return out
}

/** The string an `encodeHeaderValue` value stands for; a malformed escape is kept as it is. */
export const decodeHeaderValue = (s: string): string => {
  if (!s.includes('%')) return s
  try {
    return decodeURIComponent(s)
  } catch {
    return s
  }
}
