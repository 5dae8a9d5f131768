import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { defineConfig } from 'vitest/config'

/**
 * Tests, docs examples and the demo import the kit by its own name (`aett`, `aett/sqlite`, ...), as a user does.
 * Each subpath of the package's `exports` map resolves here to the source file its built file comes from, so the
 * suite runs on `src/` without a build; `test/package` checks the built and packed package itself.
 */
const pkg = JSON.parse(readFileSync(new URL('./package.json', import.meta.url), 'utf8')) as {
  name: string
  exports: Record<string, string | { default: string }>
}
const alias = Object.entries(pkg.exports)
  .filter(([subpath]) => subpath !== './package.json')
  .map(([subpath, target]) => {
    const built = typeof target === 'string' ? target : target.default
    const source = built.replace(/^\.\/dist\//, './src/').replace(/\.js$/, '.ts')
    const name = subpath === '.' ? pkg.name : `${pkg.name}/${subpath.slice(2)}`
    return { find: new RegExp(`^${name.replace(/[/]/g, '\\/')}$`), replacement: fileURLToPath(new URL(source, import.meta.url)) }
  })

export default defineConfig({
  resolve: { alias },
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // Database suites create their own schema per file; running files in parallel is safe but
    // two cores are easily saturated, so cap the worker count.
    maxWorkers: 2,
  },
})
