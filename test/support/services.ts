/**
 * Test configuration for suites that need a database server. A suite whose server is unreachable is skipped
 * with a loud message, except under AETT_REQUIRE_SERVICES=1 (as in CI), where it fails the run instead.
 */
export const requireServices = process.env['AETT_REQUIRE_SERVICES'] === '1'

export const pgUrl = process.env['AETT_PG_URL'] ?? 'postgres://postgres@127.0.0.1:5432/test'
export const mysqlUrl = process.env['AETT_MYSQL_URL'] ?? 'mysql://root@127.0.0.1:3306/test'

/** A fresh, unique, SQL-safe name for one test run's schema or table prefix. */
export const uniqueName = (prefix: string): string =>
  `${prefix}_${process.pid}_${Date.now().toString(36)}_${Math.random().toString(36).slice(2, 8)}`

/**
 * Probes a service once. Returns true when it answers; when it does not, either throws (services required) or
 * prints a banner that nobody can miss and returns false so the caller can `describe.skipIf(!available)`.
 */
export const serviceAvailable = async (service: string, probe: () => Promise<unknown>): Promise<boolean> => {
  try {
    await probe()
    return true
  } catch (cause) {
    const why = cause instanceof Error ? cause.message : String(cause)
    if (requireServices) {
      throw new Error(`${service} is required (AETT_REQUIRE_SERVICES=1) but unreachable: ${why}`, { cause })
    }
    const line = '!'.repeat(100)
    console.warn(`\n${line}\n!! SKIPPING ${service} suites: ${why}\n!! Set AETT_REQUIRE_SERVICES=1 to make this a failure.\n${line}\n`)
    return false
  }
}
