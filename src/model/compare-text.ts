// Text order as Kubernetes and Argo CD's gitops-engine sort names: Go compares strings by their bytes (UTF-8, which
// orders as JavaScript's code units do for every name the API accepts), so "B" comes before "a". localeCompare is
// ICU's collation instead ("a" before "B", punctuation weighed apart), and its first use pages ICU's collation data
// into serve (~2 MB resident).

/** Negative, zero or positive as `a` sorts before, with or after `b`, by code units. */
export const compareText = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);
