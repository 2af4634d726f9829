// How plain scalars resolve, as Kubernetes reads them. Kubernetes reads YAML with go-yaml v2 (through
// sigs.k8s.io/yaml), whose plain scalars follow YAML 1.1: `0400` is octal (a file mode of 256, not 400), `1_000` is
// 1000, `yes`/`on`/`y` are booleans, `~` is null. It also parses integers with Go's prefixes (`0o`, `0x`, `0b`) and
// accepts merge keys (`<<: *defaults`). It has no sexagesimal numbers (`12:30` stays a string) and reads `1e3` as a
// number, as YAML 1.2 does; a date stays its text here. Both parsers (parse.ts, plain-yaml.ts) resolve through these.
import * as yaml from 'js-yaml';

const goNumber = (tag: yaml.ScalarTagDefinition, go: yaml.ScalarTagDefinition): yaml.ScalarTagDefinition => ({
  ...tag,
  resolve: (source, explicit, name) => {
    if (!explicit && source.includes(':')) return yaml.NOT_RESOLVED;
    const v = tag.resolve(source, explicit, name);
    return v === yaml.NOT_RESOLVED ? go.resolve(source, explicit, name) : v;
  },
});

/** The tags a plain scalar may resolve to, tried in this order (a plain scalar none of them takes is a string). */
export const IMPLICIT_TAGS: readonly yaml.ScalarTagDefinition[] = [
  yaml.nullYaml11Tag, yaml.boolYaml11Tag, goNumber(yaml.intYaml11Tag, yaml.intCoreTag), goNumber(yaml.floatYaml11Tag, yaml.floatCoreTag),
];

export const SCHEMA = new yaml.Schema([...yaml.FAILSAFE_SCHEMA.tags, ...IMPLICIT_TAGS, yaml.mergeTag]);
