import type { DomainEvent } from '../eventstore/codec/defineEvent.js'
import type { StreamError } from '../eventstore/errors.js'
import type { SagaRepository, SagaRoot, SagaType } from '../domain/classes/SagaRepository.js'
import type { SaveResult } from '../domain/classes/results.js'
import type { RepositoryError } from '../domain/errors.js'
import type { SagaDefinitionRepository, SagaOutcome } from '../domain/sagaRepository.js'
import type { Feed } from './router.js'

/**
 * A router's feed into a saga repository (`sagaRepository`): each event is handled by saga `sagaId` under the
 * event's commit id, with the router's headers. A redelivered event answers `AlreadyCommitted`.
 */
export const sagaFeed =
  <S, Ev, C>(repository: SagaDefinitionRepository<S, Ev, C>): Feed<Ev, RepositoryError, SagaOutcome<S, C>> =>
  (sagaId, routed) =>
    repository.handle(sagaId, routed.event, { commitId: routed.commitId, headers: routed.sagaHeaders })()

/**
 * A router's feed into `Saga` classes: loads saga `sagaId` of `type`, `transition`s it with the event, and saves
 * it under the event's commit id, with the router's headers. A redelivered event answers `AlreadyCommitted`.
 */
export const sagaClassFeed =
  <Ev extends DomainEvent, S extends SagaRoot & { transition(event: Ev): void }>(
    repository: SagaRepository<Ev>,
    type: SagaType<S>,
  ): Feed<Ev, StreamError | RepositoryError, SaveResult> =>
  async (sagaId, routed) => {
    const loaded = await repository.either.get(type, sagaId)
    if (loaded._tag === 'Left') return loaded
    loaded.right.transition(routed.event)
    return repository.either.save(loaded.right, { commitId: routed.commitId, headers: routed.sagaHeaders })
  }
