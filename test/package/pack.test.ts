import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { dirname, join, relative, resolve } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  copyProgram,
  importEach,
  loadsPeers,
  nodeJson,
  pack,
  pkg,
  run,
  runMain,
  specifier,
  subpaths,
  tempDir,
  tsc,
  writeTsconfig,
  type Packed,
} from './support.js'

/**
 * What a user installs: `npm pack`, then a project outside the repository (in the OS's temporary directory) that
 * installs only the tarball and its required peers (fp-ts, io-ts), imports every entry point, and compiles and runs a
 * small program against the shipped `.d.ts`. Needs npm (it fails, never skips, without it) and the npm registry or
 * cache for fp-ts and io-ts; `npm test` builds `dist/` first.
 */
const work = tempDir('aett-pack-')
const consumer = join(work.path, 'consumer')
const installed = join(consumer, 'node_modules', pkg.name)
let packed: Packed

/** The required peers at the versions the repository pins (in the npm cache after the repository's own install). */
const requiredPeers = Object.keys(pkg.peerDependencies).filter((p) => !pkg.peerDependenciesMeta[p]?.optional)
const optionalPeers = Object.keys(pkg.peerDependencies).filter((p) => pkg.peerDependenciesMeta[p]?.optional)

beforeAll(async () => {
  await run('npm', ['--version'], work.path) // fails loudly when npm is missing
  packed = await pack(work.path)
  mkdirSync(consumer)
  writeFileSync(join(consumer, 'package.json'), JSON.stringify({ name: 'aett-consumer', private: true, type: 'module' }, null, 2))
  const peers = requiredPeers.map((p) => `${p}@${pkg.devDependencies[p] ?? pkg.peerDependencies[p]}`)
  await run('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', packed.tarball, ...peers], consumer)
}, 180_000)

afterAll(() => work.dispose())

const walk = (dir: string): string[] =>
  readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? walk(join(dir, e.name)) : [join(dir, e.name)]))

describe('the packed tarball', () => {
  it('ships the built code, its sources, the docs, LICENSE, README and CHANGELOG, and no tests', () => {
    for (const f of ['package.json', 'LICENSE', 'README.md', 'CHANGELOG.md', 'docs/SEMANTICS.md', 'src/index.ts', 'dist/index.js']) {
      expect(packed.files, f).toContain(f)
    }
    expect(packed.files.filter((f) => f.startsWith('docs/examples/')).length).toBeGreaterThan(0)
    expect(packed.files.filter((f) => /^(test|bench|examples|node_modules)\//.test(f) || f.startsWith('.'))).toEqual([])
  }, 120_000)

  it('holds every file the exports map points at', () => {
    for (const [subpath, target] of Object.entries(pkg.exports)) {
      for (const file of typeof target === 'string' ? [target] : [target.types, target.default]) {
        expect(packed.files, `${subpath} -> ${file}`).toContain(file.replace(/^\.\//, ''))
      }
    }
  }, 120_000)

  it('has Markdown links that work from the installed package (relative links to shipped files)', () => {
    const pages = packed.files.filter((f) => f.endsWith('.md'))
    expect(pages).toContain('docs/stores.md')
    const dead: string[] = []
    for (const page of pages) {
      const text = readFileSync(join(installed, page), 'utf8').replace(/```[\s\S]*?```/g, '')
      for (const [, link] of text.matchAll(/\]\(([^)\s]+)\)/g)) {
        if (link === undefined || /^[a-z][a-z+.-]*:/i.test(link) || link.startsWith('#')) continue
        const target = relative(installed, resolve(dirname(join(installed, page)), decodeURI(link.split('#')[0] ?? '')))
        if (!packed.files.includes(target)) dead.push(`${page}: ${link}`)
      }
    }
    expect(dead).toEqual([])
  }, 120_000)

  it('has source maps that resolve to shipped files', () => {
    const maps = walk(join(installed, 'dist')).filter((f) => f.endsWith('.js.map'))
    expect(maps.length).toBeGreaterThan(50)
    const unresolved: string[] = []
    for (const map of maps) {
      const { sources, sourceRoot } = JSON.parse(readFileSync(map, 'utf8')) as { sources: string[]; sourceRoot?: string }
      for (const source of sources) {
        const file = resolve(dirname(map), sourceRoot ?? '', source)
        if (relative(installed, file).startsWith('..') || !packed.files.includes(relative(installed, file))) {
          unresolved.push(`${relative(installed, map)} -> ${source}`)
        }
      }
    }
    expect(unresolved).toEqual([])
    // and every built module names its map
    const scripts = walk(join(installed, 'dist')).filter((f) => f.endsWith('.js'))
    const unmapped = scripts.filter((f) => {
      const url = /\/\/# sourceMappingURL=(\S+)\s*$/.exec(readFileSync(f, 'utf8'))?.[1]
      return url === undefined || !packed.files.includes(relative(installed, resolve(dirname(f), url)))
    })
    expect(unmapped.map((f) => relative(installed, f))).toEqual([])
  }, 120_000)
})

describe('a consumer with only the tarball and its required peers', () => {
  it(`has none of the optional peers (${optionalPeers.join(', ')})`, async () => {
    const found = await nodeJson<Record<string, boolean>>(
      consumer,
      `import { createRequire } from 'node:module'
       const require = createRequire(process.cwd() + '/package.json')
       const out = {}
       for (const p of ${JSON.stringify(optionalPeers)}) { try { require.resolve(p + '/package.json'); out[p] = true } catch { out[p] = false } }
       console.log(JSON.stringify(out))`,
    )
    expect(found).toEqual(Object.fromEntries(optionalPeers.map((p) => [p, false])))
  }, 120_000)

  it('imports every entry point that needs no optional peer to load (drivers load lazily)', async () => {
    const plain = subpaths.filter((s) => !(s in loadsPeers)).map(specifier)
    const results = await nodeJson<Record<string, { names?: number; code?: string; message?: string }>>(consumer, importEach(plain))
    for (const s of plain) expect(results[s], s).toEqual({ names: expect.any(Number) })
    for (const s of plain) expect(results[s]?.names, `${s} exports names`).toBeGreaterThan(0)
  }, 120_000)

  it('is told which peer to install by an entry point that needs one', async () => {
    const needy = subpaths.filter((s) => s in loadsPeers)
    const results = await nodeJson<Record<string, { names?: number; code?: string; message?: string }>>(consumer, importEach(needy.map(specifier)))
    for (const s of needy) {
      expect(results[specifier(s)]?.code, specifier(s)).toBe('ERR_MODULE_NOT_FOUND')
      expect(loadsPeers[s]?.some((peer) => results[specifier(s)]?.message?.includes(`'${peer}'`)), results[specifier(s)]?.message).toBe(true)
    }
  }, 120_000)

  it("works from CommonJS through Node's require(esm) (Node 20.19+, 22.12+)", async () => {
    const { stdout } = await run(process.execPath, ['-e', `console.log(Object.keys(require('${pkg.name}')).length)`], consumer)
    expect(Number(stdout.trim().split('\n').pop())).toBeGreaterThan(0)
  }, 120_000)

  it('compiles a strict NodeNext program against the shipped .d.ts (skipLibCheck off) and runs it', async () => {
    copyProgram(consumer, ['app.ts'])
    writeTsconfig(consumer, { skipLibCheck: false })
    await run(tsc, ['-p', consumer], consumer)
    const { actual, expected } = await nodeJson<{ actual: unknown; expected: unknown }>(consumer, runMain('./out/app.js'))
    expect(actual).toEqual(expected)
  }, 120_000)
})
