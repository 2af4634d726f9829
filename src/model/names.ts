// Kubernetes name syntaxes (DNS-1123 labels and subdomains, label keys and values, port names), each with the
// message shown when a value does not follow it.

const LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const QUALIFIED = /^[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/;
const CONFIG_KEY = /^[-._a-zA-Z0-9]+$/;

/** Namespace, Service and container names: `my-app`, at most 63 characters. */
export const isDnsLabel = (s: string) => s.length <= 63 && LABEL.test(s);

/** Most object names: dot-separated DNS labels, at most 253 characters. */
export const isDnsSubdomain = (s: string) => s.length <= 253 && SUBDOMAIN.test(s);

/** Label and annotation keys: `[prefix/]name`, the prefix a DNS subdomain, the name at most 63 characters. */
export function isQualifiedName(s: string): boolean {
  const slash = s.indexOf('/');
  const name = slash < 0 ? s : s.slice(slash + 1);
  if (slash >= 0 && !isDnsSubdomain(s.slice(0, slash))) return false;
  return name.length <= 63 && QUALIFIED.test(name);
}

/** Label values: empty, or at most 63 characters of the label-name alphabet. */
export const isLabelValue = (s: string) => s === '' || (s.length <= 63 && QUALIFIED.test(s));

/** Port names (RFC 6335 service names): at most 15 characters, at least one letter, no `--`. */
export const isIanaSvcName = (s: string) => s.length <= 15 && LABEL.test(s) && /[a-z]/.test(s) && !s.includes('--');

/** ConfigMap and Secret data keys, which become file names: never `.`, `..` or starting with `..` (a chdir out). */
export const isConfigKey = (s: string) => s.length <= 253 && CONFIG_KEY.test(s) && s !== '.' && !s.startsWith('..');

export type NameSyntax = 'dns-label' | 'dns-subdomain' | 'label-key' | 'label-value' | 'port-name' | 'config-key';

/** Each syntax with its check and a human description, usable as `must be …` messages. */
export const NAME_SYNTAXES: Record<NameSyntax, { test: (s: string) => boolean; message: string }> = {
  'dns-label': {
    test: isDnsLabel,
    message: "must be a DNS-1123 label (lower-case letters, digits and '-', starting and ending with a letter or digit, at most 63 characters)",
  },
  'dns-subdomain': {
    test: isDnsSubdomain,
    message: "must be a DNS-1123 subdomain (lower-case letters, digits, '-' and '.', starting and ending with a letter or digit, at most 253 characters)",
  },
  'label-key': {
    test: isQualifiedName,
    message: "must be a label key: an optional DNS subdomain prefix and '/', then at most 63 letters, digits, '-', '_' or '.', starting and ending with a letter or digit",
  },
  'label-value': {
    test: isLabelValue,
    message: "must be empty or at most 63 letters, digits, '-', '_' or '.', starting and ending with a letter or digit",
  },
  'port-name': {
    test: isIanaSvcName,
    message: "must be a port name (at most 15 lower-case letters, digits and '-', with at least one letter)",
  },
  'config-key': {
    test: isConfigKey,
    message: "must be a key of at most 253 letters, digits, '-', '_' and '.', other than '.' and not starting with '..'",
  },
};
