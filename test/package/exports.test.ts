import { existsSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { pkg, specifier, subpaths } from './support.js'

/**
 * The built entry points, as the exports map names them: each target in `dist/` is imported by its file URL (the
 * package's own name resolves to `src/` inside this repository, see vitest.config.ts), so this checks what `npm
 * test` has just built. test/package/pack.test.ts checks the same files after `npm pack` and an install.
 */

/** A few names each entry point must provide; a missing one means the entry point lost part of its API. */
const expected: Record<string, readonly string[]> = {
  '.': ['defineEvent', 'topicMap', 'fold', 'matchError', 'Aggregate', 'deciderRepository', 'memoryStore', 'stateCache'],
  './eventstore': ['defineEvent', 'topicMap', 'toArray', 'storageError', 'EventStream'],
  './adapter': ['defineStore', 'validateAttempt', 'checkAgainstHead', 'gapAfterHead', 'paged', 'fromIterable', 'failed', 'isStorableId', 'unstorableIdReason'],
  './decider': ['fold', 'combine', 'runSaga', 'evolveWith'],
  './domain': ['Aggregate', 'Saga', 'deciderRepository', 'stateCache'],
  './memory': ['memoryStore'],
  './sqlite': ['sqliteStore', 'sqliteProjection'],
  './postgres': ['postgresStore', 'postgresProjection'],
  './mysql': ['mysqlStore', 'mysqlProjection'],
  './dynamodb': ['dynamoDbStore'],
  './subscriptions': ['subscribe', 'resetSubscription', 'replayParked', 'listParked'],
  './projections': ['startProjection', 'projectionFor', 'documentProjection', 'documentsOf', 'inlineProjection', 'rebuildDocuments', 'resetProjection'],
  './otel': ['tracedStore', 'tracedRepository', 'tracedHandler', 'linkToCommit', 'subscriptionLag'],
  './sagas': ['dispatchCommands', 'routeEvents', 'sagaFeed', 'allCaughtUp'],
  './nats': ['natsForwarder', 'natsCommandConsumer', 'subjectToken', 'messageId', 'HEADER', 'jsonBody'],
  './rabbitmq': ['rabbitMqForwarder', 'rabbitMqCommandConsumer', 'messageId', 'HEADER', 'jsonBody'],
  './testing': ['given', 'deciderScenario', 'sagaScenario', 'ScenarioFailure'],
  './testing/properties': ['arbitraryFromCodec', 'arbitraryEvent', 'checkDeciderLaws'],
  './testing/contract': ['storeContract'],
}

/** Names for store authors live at `aett/adapter` only: the user-facing entry points do not offer them. */
const storeAuthorNames = ['validateAttempt', 'checkAgainstHead', 'gapAfterHead', 'paged', 'fromIterable', 'failed', 'isStorableId', 'unstorableIdReason']
const absent: Record<string, readonly string[]> = { '.': storeAuthorNames, './eventstore': storeAuthorNames }

const built = (subpath: string): string => {
  const target = pkg.exports[subpath]
  if (target === undefined) throw new Error(`no export ${subpath}`)
  return typeof target === 'string' ? target : target.default
}

describe('package exports (the built dist/)', () => {
  it('lists every entry point this test knows about, and no other', () => {
    expect([...subpaths].sort()).toEqual(Object.keys(expected).sort())
  })

  for (const subpath of subpaths) {
    const url = new URL(`../../${built(subpath)}`, import.meta.url)
    it(`${specifier(subpath)} (${built(subpath)}) is built and exports its API`, async () => {
      expect(existsSync(url), `${built(subpath)} is missing: run npm run build`).toBe(true)
      const target = pkg.exports[subpath]
      if (typeof target === 'object') {
        expect(existsSync(new URL(`../../${target.types}`, import.meta.url)), `${target.types} is missing`).toBe(true)
      }
      const mod = (await import(url.href)) as Record<string, unknown>
      expect(Object.keys(mod).length).toBeGreaterThan(0)
      for (const name of expected[subpath] ?? []) expect(mod, `${specifier(subpath)} exports ${name}`).toHaveProperty(name)
      for (const name of absent[subpath] ?? []) expect(mod, `${specifier(subpath)} does not export ${name}`).not.toHaveProperty(name)
    })
  }
})
