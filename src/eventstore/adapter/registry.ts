/**
 * Things registered on a store object (its context), kept beside it rather than in it: a store that has none pays
 * one map lookup where it asks. `add` answers the function that takes the registration back.
 */
export const registry = <K extends object, V>() => {
  const registered = new WeakMap<K, V[]>()
  return {
    /** What is registered on `key`, or `undefined` when nothing is. */
    of: (key: K): readonly V[] | undefined => {
      const list = registered.get(key)
      return list === undefined || list.length === 0 ? undefined : list
    },
    add: (key: K, value: V): (() => void) => {
      const list = registered.get(key) ?? []
      registered.set(key, list)
      list.push(value)
      return () => {
        const i = list.indexOf(value)
        if (i >= 0) list.splice(i, 1)
      }
    },
  }
}
