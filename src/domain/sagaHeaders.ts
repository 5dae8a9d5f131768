import type { Headers, Json } from '../eventstore/Json.js'

/** The header prefix under which a saga's commands travel with its commit (NEventStore's name, SEMANTICS 21). */
export const UNDISPATCHED_PREFIX = 'UndispatchedMessage.'

/** Commands as commit headers: `UndispatchedMessage.0`, `UndispatchedMessage.1`, ... in dispatch order. */
export const undispatchedHeaders = (commands: readonly Json[]): Headers =>
  Object.fromEntries(commands.map((c, i) => [`${UNDISPATCHED_PREFIX}${i}`, c]))

/** The commands stored in a commit's headers, in dispatch order (for a dispatcher that delivers them). */
export const undispatchedMessages = (headers: Headers): Json[] =>
  Object.keys(headers)
    .filter((k) => k.startsWith(UNDISPATCHED_PREFIX) && /^\d+$/.test(k.slice(UNDISPATCHED_PREFIX.length)))
    .sort((a, b) => Number(a.slice(UNDISPATCHED_PREFIX.length)) - Number(b.slice(UNDISPATCHED_PREFIX.length)))
    .map((k) => headers[k] as Json)
