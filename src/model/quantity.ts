// Kubernetes resource quantities (`250m`, `0.5`, `128Mi`, `1G`, `1e3`) as plain numbers in base units:
// cores for cpu, bytes for memory.

const BINARY: Record<string, number> = { Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40, Pi: 2 ** 50, Ei: 2 ** 60 };
const DECIMAL: Record<string, number> = { n: -9, u: -6, m: -3, '': 0, k: 3, M: 6, G: 9, T: 12, P: 15, E: 18 };

// <sign><digits>[.<digits>] then a binary suffix, a decimal suffix or an exponent (`e3`); `1E` is exa, `1E3` is 1000.
const QUANTITY = /^([+-]?(?:\d+\.?\d*|\.\d+))(?:(Ki|Mi|Gi|Ti|Pi|Ei)|([numkMGTPE]?)|[eE]([+-]?\d+))$/;

/** Parses a quantity string (or a YAML number) into base units. Throws on bad syntax. */
export function parseQuantity(q: string | number): number {
  if (typeof q === 'number') {
    if (!Number.isFinite(q)) throw new Error(`invalid quantity: ${q}`);
    return q;
  }
  const m = QUANTITY.exec(q);
  if (!m) throw new Error(`invalid quantity: "${q}"`);
  const n = Number(m[1]);
  const exp = m[2] ? undefined : m[4] !== undefined ? Number(m[4]) : DECIMAL[m[3] ?? ''];
  // Divide by powers of ten rather than multiply by fractions, so 100m is exactly 0.1.
  const value = exp === undefined ? n * BINARY[m[2]] : exp < 0 ? n / 10 ** -exp : n * 10 ** exp;
  if (!Number.isFinite(value)) throw new Error(`invalid quantity: "${q}"`);
  return value;
}

/** True when `q` parses as a quantity. */
export function isQuantity(q: unknown): q is string | number {
  if (typeof q !== 'string' && typeof q !== 'number') return false;
  try { parseQuantity(q); return true; } catch { return false; }
}

/**
 * Formats base units the way Kubernetes prints them: `binarySI` (memory) uses the largest exact Ki…Ei suffix,
 * falling back to decimal; `decimalSI` (cpu) uses plain numbers, k…E for exact multiples, and m/u/n for fractions.
 */
export function formatQuantity(value: number, style: 'decimalSI' | 'binarySI' = 'decimalSI'): string {
  if (value === 0) return '0';
  if (style === 'binarySI' && Number.isInteger(value)) {
    for (const [suffix, f] of Object.entries(BINARY).reverse()) if (value % f === 0) return `${value / f}${suffix}`;
  }
  if (Number.isInteger(value)) {
    for (const suffix of ['E', 'P', 'T', 'G', 'M', 'k']) {
      const f = 10 ** DECIMAL[suffix];
      if (value % f === 0) return `${value / f}${suffix}`;
    }
    return String(value);
  }
  for (const suffix of ['m', 'u', 'n']) {
    const scaled = value * 10 ** -DECIMAL[suffix];
    if (Math.abs(scaled - Math.round(scaled)) < 1e-6) return `${Math.round(scaled)}${suffix}`;
  }
  return `${Math.ceil(value * 1e9)}n`; // Kubernetes rounds sub-nano fractions up
}
