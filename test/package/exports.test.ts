import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'

/**
 * What users install is what was tested: every subpath of the package's `exports` map is imported by the
 * package's own name, which resolves to the built `dist/` (npm test builds first).
 */
const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
  name: string
  exports: Record<string, unknown>
}

/** A few names each entry point must provide; a missing one means the entry point lost part of its API. */
const expected: Record<string, readonly string[]> = {
  '.': ['defineEvent', 'topicMap', 'fold', 'matchError', 'validateAttempt', 'Aggregate', 'deciderRepository', 'MemoryStore'],
  './eventstore': ['defineEvent', 'topicMap', 'toArray', 'storageError', 'EventStream'],
  './decider': ['fold', 'combine', 'runSaga', 'evolveWith'],
  './domain': ['Aggregate', 'Saga'],
  './memory': ['MemoryStore', 'memoryStore'],
  './sqlite': ['openSqliteStore', 'SqliteStore'],
  './postgres': ['postgresStore', 'PostgresStore'],
  './mysql': ['mysqlStore', 'MysqlStore'],
  './dynamodb': ['dynamoDbStore', 'DynamoDbStore'],
  './testing': ['given'],
}

const subpaths = Object.keys(pkg.exports).filter((k) => k !== './package.json')

describe('package exports', () => {
  it('lists every entry point this test knows about, and no other', () => {
    expect(subpaths.sort()).toEqual(Object.keys(expected).sort())
  })

  for (const subpath of subpaths) {
    const specifier = subpath === '.' ? pkg.name : `${pkg.name}/${subpath.slice(2)}`
    it(`${specifier} resolves from the built package and exports its API`, async () => {
      const mod = (await import(specifier)) as Record<string, unknown>
      expect(Object.keys(mod).length).toBeGreaterThan(0)
      for (const name of expected[subpath] ?? []) expect(mod, `${specifier} exports ${name}`).toHaveProperty(name)
    })
  }
})
