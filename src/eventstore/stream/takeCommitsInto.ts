/**
 * Internal (not exported from the package): the in-place step of `takeCommits`, which a load uses batch by batch.
 */
import type { Commit, EventMessage } from '../Commit.js'
import type { StreamState, Window } from './StreamState.js'

/**
 * `takeCommits`, adding to `ids` and `events` in place: they must be the state's own commit ids and events, or
 * copies of them. A load passes the same two for every batch it takes, so that a long stream costs linear time;
 * one copy per batch made loading quadratic in the number of commits.
 */
export const takeCommitsInto = (state: StreamState, commits: Iterable<Commit>, window: Window, ids: Set<string>, events: EventMessage[]): StreamState => {
  let { streamRevision, commitSequence, committedHeaders, partialAt } = state
  for (const c of commits) {
    const first = c.streamRevision - c.events.length + 1
    if (first > window.maxRevision || c.streamRevision <= streamRevision) continue
    ids.add(c.commitId)
    commitSequence = c.commitSequence
    committedHeaders = { ...committedHeaders, ...c.headers }
    c.events.forEach((m, i) => {
      const revision = first + i
      if (revision < window.minRevision || revision > window.maxRevision || revision <= streamRevision) return
      events.push(m)
    })
    if (c.streamRevision > window.maxRevision) {
      partialAt = window.maxRevision
      streamRevision = window.maxRevision
    } else {
      streamRevision = c.streamRevision
    }
  }
  return { ...state, streamRevision, commitSequence, committedHeaders, committedEvents: events, commitIds: ids, partialAt }
}
