import { usage } from './errors.js'

/** The kinds of store the command line opens. */
export type StoreKind = 'memory' | 'sqlite' | 'postgres' | 'mysql' | 'dynamodb'

/** A store URL, parsed and checked; nothing is opened yet. */
export type StoreSpec =
  | { readonly kind: 'memory'; readonly label: string; readonly seed: string | undefined }
  | { readonly kind: 'sqlite'; readonly label: string; readonly filename: string; readonly tablePrefix: string | undefined }
  | { readonly kind: 'postgres'; readonly label: string; readonly connectionString: string; readonly schema: string | undefined }
  | { readonly kind: 'mysql'; readonly label: string; readonly uri: string; readonly tablePrefix: string | undefined }
  | {
      readonly kind: 'dynamodb'
      readonly label: string
      readonly region: string | undefined
      readonly endpoint: string | undefined
      readonly tablePrefix: string | undefined
    }

export const urlForms =
  'sqlite:<file>[?prefix=<p>], postgres://user@host:port/db[?schema=<s>], mysql://user@host:port/db[?prefix=<p>], ' +
  'dynamodb://<region>[?endpoint=<url>&tables=<prefix>] or memory:[<export.ndjson>]'

const bad = (url: string, why: string) => usage(`bad store URL ${JSON.stringify(redact(url))}: ${why}; use ${urlForms}`)

/** The URL with any password replaced, for messages. */
export const redact = (url: string): string => url.replace(/^([a-z][a-z0-9+.-]*:\/\/[^:/@?#]*):[^@/?#]*@/i, '$1:***@')

/** Splits `path?query` where the path is not a URL (SQLite, memory). */
const splitQuery = (rest: string): [string, URLSearchParams] => {
  const q = rest.indexOf('?')
  return q < 0 ? [rest, new URLSearchParams()] : [rest.slice(0, q), new URLSearchParams(rest.slice(q + 1))]
}

/** Takes the parameters the command line understands out of `params`, refusing unknown ones when `strict`. */
const take = (url: string, params: URLSearchParams, known: readonly string[], strict: boolean): Record<string, string> => {
  const out: Record<string, string> = {}
  for (const name of known) {
    const v = params.get(name)
    if (v !== null) {
      if (v.length === 0) throw bad(url, `parameter ${name} is empty`)
      out[name] = v
      params.delete(name)
    }
  }
  if (strict) {
    const unknown = [...params.keys()]
    if (unknown.length > 0) throw bad(url, `unknown parameter ${unknown[0]} (known: ${known.join(', ')})`)
  }
  return out
}

/** Parses a store URL. A URL that names no store the kit has is a usage error (exit code 2). */
export const parseStoreUrl = (url: string): StoreSpec => {
  const scheme = /^([a-z][a-z0-9+.-]*):/i.exec(url)?.[1]?.toLowerCase()
  if (scheme === undefined) throw bad(url, 'it has no scheme')
  const rest = url.slice(scheme.length + 1)
  switch (scheme) {
    case 'memory': {
      const [path, params] = splitQuery(rest)
      take(url, params, [], true)
      const seed = path.length === 0 ? undefined : path
      return { kind: 'memory', label: seed === undefined ? 'memory' : `memory (seeded from ${seed})`, seed }
    }
    case 'sqlite': {
      const [raw, params] = splitQuery(rest)
      // `sqlite:///abs/file.db` and `sqlite://./file.db` are read like `sqlite:/abs/file.db` and `sqlite:./file.db`.
      const filename = raw.startsWith('//') ? raw.slice(2) : raw
      if (filename.length === 0) throw bad(url, 'it names no file')
      const { prefix } = take(url, params, ['prefix'], true)
      return { kind: 'sqlite', label: `sqlite ${filename}`, filename, tablePrefix: prefix }
    }
    case 'postgres':
    case 'postgresql': {
      let parsed: URL
      try {
        parsed = new URL(url)
      } catch {
        throw bad(url, 'it is not a URL')
      }
      if (parsed.hostname.length === 0) throw bad(url, 'it names no host')
      const { schema } = take(url, parsed.searchParams, ['schema'], false)
      const db = parsed.pathname.replace(/^\//, '') || '(default database)'
      return {
        kind: 'postgres',
        label: `postgres ${parsed.host}/${db}${schema === undefined ? '' : ` schema ${schema}`}`,
        connectionString: parsed.toString(),
        schema,
      }
    }
    case 'mysql':
    case 'mariadb': {
      let parsed: URL
      try {
        parsed = new URL(`mysql:${rest}`)
      } catch {
        throw bad(url, 'it is not a URL')
      }
      if (parsed.hostname.length === 0) throw bad(url, 'it names no host')
      const { prefix } = take(url, parsed.searchParams, ['prefix'], false)
      const db = parsed.pathname.replace(/^\//, '')
      if (db.length === 0) throw bad(url, 'it names no database (mysql://user@host:3306/<database>)')
      return { kind: 'mysql', label: `mysql ${parsed.host}/${db}${prefix === undefined ? '' : ` prefix ${prefix}`}`, uri: parsed.toString(), tablePrefix: prefix }
    }
    case 'dynamodb': {
      let parsed: URL
      try {
        parsed = new URL(url)
      } catch {
        throw bad(url, 'it is not a URL')
      }
      const { endpoint, tables } = take(url, parsed.searchParams, ['endpoint', 'tables'], true)
      if (endpoint !== undefined && !/^https?:\/\/./.test(endpoint)) throw bad(url, 'endpoint must be an http(s) URL')
      const region = parsed.hostname.length > 0 ? parsed.hostname : undefined
      return {
        kind: 'dynamodb',
        label: `dynamodb ${region ?? '(default region)'}${endpoint === undefined ? '' : ` at ${endpoint}`}${tables === undefined ? '' : ` tables ${tables}*`}`,
        region,
        endpoint,
        tablePrefix: tables,
      }
    }
    default:
      throw bad(url, `unknown scheme ${scheme}:`)
  }
}
