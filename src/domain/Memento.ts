/** A serialisable picture of an aggregate at a version (the seed's `Memento`). `id` is the aggregate's id. */
export interface Memento<T> {
  readonly id: string
  readonly version: number
  readonly payload: T
}
