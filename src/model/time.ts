// Kubernetes timestamps have second precision: `2024-05-01T10:00:00Z`.
export const isoSeconds = (d: Date) => d.toISOString().replace(/\.\d+Z$/, 'Z');
