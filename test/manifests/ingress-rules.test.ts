// Ingress validation as the API server's (pkg/apis/networking/validation), and which Ingresses are kept, not run.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { brief, load, messages } from './helpers.ts';

const ing = (spec: string, meta = '') => `apiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata: {name: web${meta}}\nspec:\n${spec}`;
const rule = (host: string, paths: string) => `  rules:\n    - host: ${JSON.stringify(host)}\n      http:\n        paths:\n${paths}`;
const p = (path: string, type: string, backend = '{service: {name: web, port: {number: 80}}}') => `          - {path: ${JSON.stringify(path)}, pathType: ${type}, backend: ${backend}}\n`;
const R = 'spec.rules[0]';
const P = `${R}.http.paths`;

test('a good Ingress: hosts, wildcard, three path types, ports by number and name, TLS', () => {
  const r = load(ing(rule('*.example.com', p('/', 'Prefix') + p('/x', 'Exact', '{service: {name: api, port: {name: http}}}') + p('/y(/|$)(.*)', 'ImplementationSpecific'))
    + '  tls: [{hosts: ["*.example.com", a.example.com], secretName: web-tls}]\n'));
  assert.equal(brief(r), []);
});

test('hosts: not an IP, a wildcard only as the whole first label', () => {
  assert.equal(messages(load(ing(rule('10.0.0.1', p('/', 'Prefix'))))), [`${R}.host: must be a DNS name, not an IP address`]);
  assert.equal(messages(load(ing(rule('a.*.com', p('/', 'Prefix'))))), [`${R}.host: must be a wildcard DNS-1123 subdomain: '*.' followed by a DNS subdomain (only the first label may be '*')`]);
  assert.equal(messages(load(ing(rule('Web_Site', p('/', 'Prefix'))))).length, 1);
});

test('paths per pathType; backends name a Service port by number or by name, not both', () => {
  const r = load(ing(rule('a.com',
    p('x', 'Prefix') + p('/a//b', 'Exact') + p('/a/..', 'Prefix') + p('rel', 'ImplementationSpecific') + p('/', 'Regex')
    + p('/n', 'Prefix', '{service: {name: web, port: {number: 80, name: http}}}')
    + p('/m', 'Prefix', '{service: {name: web, port: {}}}')
    + p('/o', 'Prefix', '{service: {name: web, port: {number: 70000}}}')
    + p('/q', 'Prefix', '{service: {name: Web, port: {name: HTTP}}}'))));
  assert.equal(messages(r), [
    `${P}[0].path: must be an absolute path`,
    `${P}[1].path: must not contain '//'`,
    `${P}[2].path: cannot end with '/..'`,
    `${P}[3].path: must be an absolute path`,
    `${P}[4].pathType: must be one of Exact, Prefix, ImplementationSpecific`,
    `${P}[5].backend.service.port: cannot set both port name & port number`,
    `${P}[6].backend.service.port: port name or number is required`,
    `${P}[7].backend.service.port.number: must be between 1 and 65535, inclusive`,
    `${P}[8].backend.service.name: must be a DNS-1123 label (lower-case letters, digits and '-', starting and ending with a letter or digit, at most 63 characters)`,
    `${P}[8].backend.service.port.name: must be a port name (at most 15 lower-case letters, digits and '-', with at least one letter)`,
  ]);
});

test('rules or a defaultBackend; the class annotation agrees with the field', () => {
  assert.equal(messages(load(ing('  tls: []\n'))), ['spec: either `defaultBackend` or `rules` must be specified']);
  const both = load(ing('  ingressClassName: convergit\n  defaultBackend: {service: {name: web, port: {number: 80}}}\n', ', annotations: {kubernetes.io/ingress.class: nginx}'));
  assert.equal(messages(both).filter((m) => !m.includes('kept, not run')), ['metadata.annotations["kubernetes.io/ingress.class"]: must match `ingressClassName` when both are specified']);
});

const backend = '  defaultBackend: {service: {name: web, port: {number: 80}}}\n';
const cls = (name: string, controller: string, isDefault = false) =>
  `---\napiVersion: networking.k8s.io/v1\nkind: IngressClass\nmetadata: {name: ${name}${isDefault ? ', annotations: {ingressclass.kubernetes.io/is-default-class: "true"}' : ''}}\nspec: {controller: ${controller}}\n`;

test('an Ingress of another class is kept, not run, with a warning (an error with --strict); convergit is the default class', () => {
  const kept = (text: string, strict = false) => load(text, { strict }).issues.filter((i) => /kept, not run/.test(i.message)).map((i) => `${i.severity} ${i.field}: ${i.message}`);
  assert.equal(kept(ing(backend)), [], 'no class: the default, convergit');
  assert.equal(kept(ing(`  ingressClassName: convergit\n${backend}`)), []);
  assert.equal(kept(ing(`  ingressClassName: nginx\n${backend}`)), ['warning spec.ingressClassName: Ingress is kept, not run: its IngressClass "nginx" does not exist; convergit runs Ingresses of class convergit (the default class)']);
  assert.equal(kept(ing(`  ingressClassName: nginx\n${backend}`) + cls('nginx', 'k8s.io/ingress-nginx'), true),
    ['error spec.ingressClassName: Ingress is kept, not run: its IngressClass "nginx" is for controller k8s.io/ingress-nginx, not convergit.dev/ingress; convergit runs Ingresses of class convergit (the default class) (--strict)']);
  assert.equal(kept(ing(backend, ', annotations: {kubernetes.io/ingress.class: traefik}')).length, 1, 'the deprecated annotation names the class');
  assert.equal(kept(ing(backend) + cls('nginx', 'k8s.io/ingress-nginx', true)).length, 1, 'a committed default class of another controller takes classless Ingresses');
  assert.equal(kept(ing(`  ingressClassName: public\n${backend}`) + cls('public', 'convergit.dev/ingress')), [], 'a class of convergit\'s controller under another name');
  assert.equal(messages(load(cls('bad', 'nginx'))), ['spec.controller: must be a domain-prefixed path (such as "acme.io/foo")']);
});

test.run();
