// cortex.yaml's YAML dialect: go-yaml v2 as Cortex 0.15 used it (YAML 1.1
// scalars, merge keys, duplicate keys keep the last value), with positions
// kept so every error can point at line:column.
import { isAlias, isMap, isPair, isScalar, isSeq, LineCounter, parseDocument, type Document, type Node } from 'yaml';

export interface Position {
  line: number;
  column: number;
}

export interface YamlProblem extends Position {
  message: string;
}

export interface ParsedYaml {
  /** the document as JS values; mappings are `Map`s so non-string keys survive for validation */
  value: unknown;
  /** syntax errors; when any, `value` is not to be trusted */
  errors: YamlProblem[];
  /** where the value (or, with `key`, the key) at `path` was written; the nearest written ancestor when it came from a merge or a default */
  positionOf(path: readonly (string | number)[], opts?: { key?: boolean }): Position;
}

// go-yaml v2 leaves `2020-01-01` and `1:30` as strings when decoding into an
// untyped value; the yaml package's 1.1 schema would turn them into a Date and
// a sexagesimal number.
const GO_YAML_DROPS = (tag: { tag: string; format?: string }) =>
  tag.tag !== 'tag:yaml.org,2002:timestamp' && tag.format !== 'TIME';

export function parseYaml(text: string): ParsedYaml {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, {
    version: '1.1',
    uniqueKeys: false,
    lineCounter,
    prettyErrors: false,
    customTags: (tags) => tags.filter((t) => typeof t === 'object' && GO_YAML_DROPS(t as { tag: string; format?: string })),
  });
  const pos = (offset: number): Position => {
    const { line, col } = lineCounter.linePos(offset);
    return { line, column: col };
  };
  const errors = doc.errors.map((e) => ({ message: describeYamlError(e.code, e.message), ...pos(e.pos[0]) }));
  let value: unknown = null;
  if (errors.length === 0) {
    try {
      value = doc.toJS({ mapAsMap: true, maxAliasCount: 1000 });
    } catch (err) {
      errors.push({ message: (err as Error).message, line: 1, column: 1 });
    }
  }
  return {
    value,
    errors,
    positionOf(path, opts = {}) {
      const { node, keyNode, complete } = locate(doc, path);
      const target = opts.key && complete && keyNode ? keyNode : node;
      return pos(target?.range?.[0] ?? 0);
    },
  };
}

function describeYamlError(code: string, message: string): string {
  // The yaml package appends " at line L, column C" plus a source excerpt
  // when prettyErrors is on; with it off the message is one line already.
  if (code === 'BAD_SCALAR_START' && message.includes('@')) {
    return 'an unquoted value cannot start with @ (Cortex reserves it for resource references); quote the value to use it as a string';
  }
  return message.split('\n')[0];
}

function locate(doc: Document, path: readonly (string | number)[]): { node: Node | null; keyNode: Node | null; complete: boolean } {
  let node = resolve(doc, doc.contents as Node | null);
  let keyNode: Node | null = null;
  for (const step of path) {
    let next: Node | null = null;
    let nextKey: Node | null = null;
    if (isSeq(node) && typeof step === 'number') {
      next = resolve(doc, node.items[step] as Node | null);
    } else if (isMap(node)) {
      for (const pair of node.items) {
        if (isPair(pair) && isScalar(pair.key) && String(pair.key.value) === String(step)) {
          nextKey = pair.key;
          // A key without a value (`key:`) has a null value node; point at the key then.
          next = resolve(doc, pair.value as Node | null) ?? pair.key;
        }
      }
    }
    if (!next) return { node, keyNode, complete: false };
    node = next;
    keyNode = nextKey;
  }
  return { node, keyNode, complete: true };
}

function resolve(doc: Document, node: Node | null | undefined): Node | null {
  if (!node) return null;
  if (isAlias(node)) return (node.resolve(doc) as Node | undefined) ?? node;
  return node;
}
