import { readdirSync, readFileSync, statSync } from 'node:fs'
import { dirname, join, relative, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'

/**
 * The walls between layers, checked on the source rather than argued: imports flow one way (core -> ports ->
 * stores and domain), no store reaches another store or the domain layer, and no import cycle exists.
 */
const src = resolve(dirname(fileURLToPath(import.meta.url)), '../../src')

const files = (dir: string): string[] =>
  readdirSync(dir).flatMap((name) => {
    const path = join(dir, name)
    return statSync(path).isDirectory() ? files(path) : path.endsWith('.ts') ? [path] : []
  })

interface Import {
  readonly from: string
  /** A file under src/ for a relative import, or the bare module name. */
  readonly to: string
  readonly relative: boolean
  readonly typeOnly: boolean
}

const importPattern = /(?:^|\n)\s*(import|export)\s+(type\s+)?[^'";]*?from\s+'([^']+)'|import\(\s*'([^']+)'\s*\)/g

const importsOf = (file: string): Import[] => {
  const text = readFileSync(file, 'utf8')
  const out: Import[] = []
  for (const m of text.matchAll(importPattern)) {
    const spec = (m[3] ?? m[4]) as string
    const typeOnly = m[2] !== undefined
    if (spec.startsWith('.')) {
      out.push({ from: file, to: resolve(dirname(file), spec.replace(/\.js$/, '.ts')), relative: true, typeOnly })
    } else {
      out.push({ from: file, to: spec, relative: false, typeOnly })
    }
  }
  return out
}

const all = files(src)
const edges = all.flatMap(importsOf)

/** The top folder of a file under src/ (`eventstore`, `sqlite`, ...), or `.` for src/index.ts. */
const area = (file: string): string => {
  const parts = relative(src, file).split('/')
  return parts.length === 1 ? '.' : (parts[0] as string)
}

const stores = new Set(['memory', 'sqlite', 'postgres', 'mysql', 'dynamodb'])
const show = (i: Import) => `${relative(src, i.from)} -> ${i.relative ? relative(src, i.to) : i.to}`

describe('layering (imports flow one way)', () => {
  it('found the sources and their imports', () => {
    expect(all.length).toBeGreaterThan(50)
    expect(edges.length).toBeGreaterThan(200)
  })

  it('every relative import names a file that exists', () => {
    const missing = edges.filter((i) => i.relative && !all.includes(i.to)).map(show)
    expect(missing).toEqual([])
  })

  it('src/eventstore and src/decider import no store, no domain code, no driver and no node:* module', () => {
    const core = new Set(['eventstore', 'decider'])
    const allowed = /^(fp-ts\/|io-ts$|immer$)/
    const bad = edges
      .filter((i) => core.has(area(i.from)))
      .filter((i) => (i.relative ? !core.has(area(i.to)) : !allowed.test(i.to)))
      .map(show)
    expect(bad).toEqual([])
  })

  it('src/eventstore does not import src/decider (the storage model knows nothing of deciders)', () => {
    const bad = edges.filter((i) => area(i.from) === 'eventstore' && i.relative && area(i.to) === 'decider').map(show)
    expect(bad).toEqual([])
  })

  it('a store imports no other store and nothing of src/domain', () => {
    const bad = edges
      .filter((i) => stores.has(area(i.from)) && i.relative)
      .filter((i) => (stores.has(area(i.to)) && area(i.to) !== area(i.from)) || area(i.to) === 'domain' || area(i.to) === 'testing')
      .map(show)
    expect(bad).toEqual([])
  })

  it('src/domain imports no store and no driver', () => {
    const bad = edges
      .filter((i) => area(i.from) === 'domain')
      .filter((i) => (i.relative ? stores.has(area(i.to)) || area(i.to) === 'sql' : !/^(fp-ts\/|io-ts$|immer$|node:crypto$)/.test(i.to)))
      .map(show)
    expect(bad).toEqual([])
  })

  it('src/subscriptions imports only src/eventstore (it runs on any store through the ports)', () => {
    const bad = edges
      .filter((i) => area(i.from) === 'subscriptions')
      .filter((i) => (i.relative ? !['subscriptions', 'eventstore'].includes(area(i.to)) : !/^(fp-ts\/|io-ts$)/.test(i.to)))
      .map(show)
    expect(bad).toEqual([])
  })

  it('src/projections imports only src/eventstore and src/subscriptions (it runs on any store that keeps projections)', () => {
    const bad = edges
      .filter((i) => area(i.from) === 'projections')
      .filter((i) => (i.relative ? !['projections', 'subscriptions', 'eventstore'].includes(area(i.to)) : !/^(fp-ts\/|io-ts$)/.test(i.to)))
      .map(show)
    expect(bad).toEqual([])
  })

  it('no module imports a store folder except the root index, the command line and the store itself', () => {
    // src/cli is a leaf like the root index: the `aett` bin opens whichever store a URL names (lazily, one at a time).
    const bad = edges
      .filter((i) => i.relative && stores.has(area(i.to)) && area(i.from) !== area(i.to) && area(i.from) !== '.' && area(i.from) !== 'cli')
      .map(show)
    expect(bad).toEqual([])
  })

  it('nothing imports src/cli (the bin is a leaf)', () => {
    const bad = edges.filter((i) => i.relative && area(i.to) === 'cli' && area(i.from) !== 'cli').map(show)
    expect(bad).toEqual([])
  })

  it('drivers are imported only by their own store, and only lazily or as types', () => {
    const drivers: Record<string, string> = { 'better-sqlite3': 'sqlite', pg: 'postgres', mysql2: 'mysql', '@aws-sdk/client-dynamodb': 'dynamodb' }
    const bad: string[] = []
    for (const file of all) {
      const text = readFileSync(file, 'utf8')
      for (const [driver, owner] of Object.entries(drivers)) {
        const d = driver.replace(/[/]/g, '\\/')
        const eager = new RegExp(`(?:^|\\n)\\s*import\\s+(?!type\\b)[^'";]*from\\s+'${d}(?:/[^']*)?'`).test(text)
        const any = new RegExp(`'${d}(?:/[^']*)?'`).test(text)
        // The command line opens a SQLite file read-only (a read verb writes nothing), lazily, with the driver itself.
        const cliReadOnly = area(file) === 'cli' && driver === 'better-sqlite3'
        if (any && area(file) !== owner && !cliReadOnly) bad.push(`${relative(src, file)} names ${driver}`)
        if (eager) bad.push(`${relative(src, file)} imports ${driver} eagerly`)
      }
    }
    expect(bad).toEqual([])
  })

  it('has no import cycle', () => {
    const graph = new Map<string, string[]>()
    for (const i of edges) if (i.relative && !i.typeOnly) graph.set(i.from, [...(graph.get(i.from) ?? []), i.to])
    const state = new Map<string, 'open' | 'done'>()
    const cycles: string[] = []
    const visit = (node: string, path: string[]): void => {
      if (state.get(node) === 'done') return
      if (state.get(node) === 'open') {
        cycles.push([...path.slice(path.indexOf(node)), node].map((f) => relative(src, f)).join(' -> '))
        return
      }
      state.set(node, 'open')
      for (const next of graph.get(node) ?? []) visit(next, [...path, node])
      state.set(node, 'done')
    }
    for (const file of all) visit(file, [])
    expect(cycles).toEqual([])
  })
})
