import { readdirSync, readFileSync } from 'node:fs'
import { dirname, join, relative, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'

// src/sagas runs on any store through the ports: it may import src/eventstore, src/subscriptions and src/domain,
// and nothing else of src/ (never a store), and no module but fp-ts and io-ts.
const src = resolve(dirname(fileURLToPath(import.meta.url)), '../../src')
const sagas = join(src, 'sagas')
const importPattern = /(?:^|\n)\s*(?:import|export)\s+(?:type\s+)?[^'";]*?from\s+'([^']+)'|import\(\s*'([^']+)'\s*\)/g

describe('src/sagas imports', () => {
  const files = readdirSync(sagas).filter((f) => f.endsWith('.ts'))
  const edges = files.flatMap((f) =>
    [...readFileSync(join(sagas, f), 'utf8').matchAll(importPattern)].map((m) => ({ from: f, to: (m[1] ?? m[2]) as string })),
  )

  it('found the module', () => {
    expect(files).toContain('index.ts')
    expect(edges.length).toBeGreaterThan(10)
  })

  it('only src/eventstore, src/subscriptions, src/domain and itself, fp-ts and io-ts', () => {
    const allowed = new Set(['eventstore', 'subscriptions', 'domain', 'sagas'])
    const bad = edges.filter(({ to }) => {
      if (!to.startsWith('.')) return !/^(fp-ts\/|io-ts$)/.test(to)
      const area = relative(src, resolve(sagas, to)).split('/')[0] as string
      return !allowed.has(area)
    })
    expect(bad).toEqual([])
  })
})
