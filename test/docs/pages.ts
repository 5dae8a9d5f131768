import { readFileSync } from 'node:fs'

const read = (path: string) => readFileSync(new URL(`../../docs/${path}`, import.meta.url), 'utf8')

/** The Markdown page `docs/<path>`, as a reader sees it. */
export const docsPage = (path: string): string => read(path)

/** The runnable example `docs/examples/<file>`, without its trailing newline, as a page must show it whole. */
export const exampleCode = (file: string): string => read(`examples/${file}`).trimEnd()
