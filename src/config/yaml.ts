// cortex.yaml's YAML dialect: go-yaml v2 as Cortex 0.15 used it (YAML 1.1
// scalars, merge keys, duplicate keys keep the last value), with positions
// kept so every error can point at line:column.
import { isAlias, isMap, isPair, isScalar, isSeq, LineCounter, parseDocument, type CollectionTag, type Document, type Node, type ScalarTag } from 'yaml';

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

/**
 * YAML floats whose value is a whole number (`2.0`, `1e3`): JavaScript cannot
 * tell them from ints once parsed, but Cortex's int fields reject them
 * (cast.InterfaceToInt32 takes no float64). Keyed by the Map or array holding
 * the value, then by the key or index; the value is the text as written.
 */
const integralFloats = new WeakMap<object, Map<unknown, string>>();

/** The source text when `container.get(key)` was written as a YAML float with a whole-number value (`2.0`), else undefined. */
export function integralFloatLiteral(container: object, key: unknown): string | undefined {
  return integralFloats.get(container)?.get(key);
}

// go-yaml v2 leaves `2020-01-01` and `1:30` as strings when decoding into an
// untyped value; the yaml package's 1.1 schema would turn them into a Date and
// a sexagesimal number. Its 1.1 float rules are also wider than go-yaml v2's:
// `.` and `-.` would be NaN, `e3` and `.e3` NaN too (go-yaml: strings; `.` is
// a common python_path). They are replaced by go-yaml v2's rule (resolve.go
// yamlStyleFloat on the text without `_`, for a plain scalar that starts with
// a digit, a sign or a dot).
const FLOAT_TAG = 'tag:yaml.org,2002:float';
const GO_FLOAT_FORMAT = 'GO_FLOAT';
const goYamlFloat = {
  identify: (value: unknown) => typeof value === 'number',
  default: true,
  tag: FLOAT_TAG,
  format: GO_FLOAT_FORMAT,
  test: /^[-+]?(?:[0-9][0-9_]*(?:\.[0-9_]*)?|\.[0-9_]*[0-9][0-9_]*)(?:[eE][-+]?[0-9_]*[0-9][0-9_]*)?$/,
  resolve: (str: string) => Number.parseFloat(str.replace(/_/g, '')),
};
type Tag = { tag: string; format?: string; test?: RegExp };
const keepTag = (t: Tag) =>
  t.tag !== 'tag:yaml.org,2002:timestamp' &&
  t.format !== 'TIME' &&
  // of the 1.1 floats keep only .inf/.nan, which go-yaml v2 reads the same way
  (t.tag !== FLOAT_TAG || t.test?.test('.nan') === true);

// go-yaml v2 reads a plain integer with Go's strconv.ParseInt(text, 0, 64):
// a leading 0 means octal, so `08` and `09` are no integers there but floats
// (yamlStyleFloat), which Cortex's int fields refuse. The yaml package's 1.1
// decimal rule takes any leading zeros; it is narrowed to go-yaml's.
const INT_TAG = 'tag:yaml.org,2002:int';
const GO_DECIMAL_INT = /^[-+]?(?:0|[1-9][0-9_]*)$/;
const goYamlTag = (t: ScalarTag | CollectionTag): ScalarTag | CollectionTag =>
  t.tag === INT_TAG && t.format === undefined ? { ...(t as ScalarTag), test: GO_DECIMAL_INT } : t;

/** Aliases may repeat a block a few times; a file that expands past this is an alias bomb, not a config. */
const MAX_ALIAS_EXPANSION = 100_000;

export function parseYaml(text: string): ParsedYaml {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, {
    version: '1.1',
    uniqueKeys: false,
    lineCounter,
    prettyErrors: false,
    customTags: (tags) => [...tags.filter((t) => typeof t === 'object' && keepTag(t as Tag)).map((t) => goYamlTag(t as ScalarTag | CollectionTag)), goYamlFloat],
  });
  const pos = (offset: number): Position => {
    const { line, col } = lineCounter.linePos(offset);
    return { line, column: col };
  };
  const errors = tabIndentation(doc.errors.map((e) => ({ message: describeYamlError(e.code, e.message), ...pos(e.pos[0]) })), text);
  let value: unknown = null;
  if (errors.length === 0) {
    try {
      value = new Converter(doc).value(doc.contents as Node | null);
    } catch (err) {
      if (err instanceof ConversionError) errors.push({ message: err.message, ...pos(err.offset) });
      else if (err instanceof RangeError) errors.push({ message: 'the document is nested too deeply', line: 1, column: 1 });
      else throw err;
    }
  }
  return {
    value,
    errors,
    positionOf(path, opts = {}) {
      const { node, keyNode, complete } = locate(doc, path);
      // `key:` with nothing after it: point at the key, not at the empty spot after it.
      const emptyValue = isScalar(node) && node.value === null && node.range?.[0] === node.range?.[1];
      const target = (opts.key || emptyValue) && complete && keyNode ? keyNode : node;
      return pos(target?.range?.[0] ?? 0);
    },
  };
}

/**
 * A tab in a line's indentation makes the yaml package report a cascade of
 * errors (11 to 66 in a small file), most of which never say "tab". The
 * errors from the first tab-indented line the parser objected to on become
 * one that does; errors before that line cannot come from it and stay.
 */
function tabIndentation(errors: YamlProblem[], text: string): YamlProblem[] {
  if (errors.length === 0) return errors;
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const indent = /^[ \t]*/.exec(lines[i])![0];
    const tab = indent.indexOf('\t');
    if (tab === -1 || indent.length === lines[i].replace(/\r$/, '').length) continue;
    const line = i + 1;
    // A tab inside a block scalar's text is content, not indentation: only a line the parser objected to counts.
    if (!errors.some((e) => e.line === line)) continue;
    const before = errors.filter((e) => e.line < line);
    return [...before, { message: 'a tab indents this line: YAML forbids tabs for indentation; indent with spaces', line, column: tab + 1 }];
  }
  return errors;
}

function describeYamlError(code: string, message: string): string {
  // The yaml package appends " at line L, column C" plus a source excerpt
  // when prettyErrors is on; with it off the message is one line already.
  if (code === 'BAD_SCALAR_START' && message.includes('@')) {
    return 'an unquoted value cannot start with @ (Cortex reserves it for resource references); quote the value to use it as a string';
  }
  return message.split('\n')[0];
}

class ConversionError extends Error {
  readonly offset: number;
  constructor(message: string, node: Node | null | undefined) {
    super(message);
    this.offset = node?.range?.[0] ?? 0;
  }
}

const isMergeKey = (key: unknown) => isScalar(key) && typeof key.value === 'symbol' && key.value.description === '<<';

/**
 * The document as JS values, as go-yaml v2 decodes into interface{}: Maps
 * (keys of any type), arrays, scalars; aliases expanded; `<<` merges insert
 * the keys the mapping does not set itself (earlier sources win); a duplicate
 * key keeps its last value. Integral floats are recorded in integralFloats.
 */
class Converter {
  private readonly doc: Document;
  private readonly anchors = new Map<string, Node>();
  private expanded = 0;
  private aliasDepth = 0;

  constructor(doc: Document) {
    this.doc = doc;
  }

  value(node: Node | null | undefined): unknown {
    if (!node) return null;
    if (this.aliasDepth > 0 && ++this.expanded > MAX_ALIAS_EXPANSION) {
      throw new ConversionError(`aliases expand to more than ${MAX_ALIAS_EXPANSION} values; this is not a config file`, node);
    }
    if (isAlias(node)) {
      const target = this.anchors.get(node.source);
      if (!target) throw new ConversionError(`alias *${node.source} refers to no anchor defined before it, or to a node containing it`, node);
      this.aliasDepth++;
      try {
        return this.value(target);
      } finally {
        this.aliasDepth--;
      }
    }
    const anchor = (node as { anchor?: string }).anchor;
    let out: unknown;
    if (isScalar(node)) {
      out = node.value;
    } else if (isSeq(node)) {
      const list: unknown[] = [];
      node.items.forEach((item, i) => {
        list.push(this.value(item as Node));
        this.noteFloat(list, i, item as Node);
      });
      out = list;
    } else if (isMap(node)) {
      const map = new Map<unknown, unknown>();
      for (const pair of node.items) {
        if (isMergeKey(pair.key)) {
          this.merge(map, pair.value as Node | null);
          continue;
        }
        const key = this.value(pair.key as Node | null);
        map.set(key, this.value(pair.value as Node | null));
        this.noteFloat(map, key, pair.value as Node | null);
      }
      out = map;
    } else {
      throw new ConversionError('unsupported YAML node', node);
    }
    // Set after the children: an alias inside its own anchor's node would recurse forever.
    if (anchor) this.anchors.set(anchor, node);
    return out;
  }

  private merge(map: Map<unknown, unknown>, value: Node | null) {
    const sources = isAlias(value) ? this.target(value) : value;
    const list = isSeq(sources) ? sources.items.map((s) => (isAlias(s) ? this.target(s) : (s as Node))) : [sources];
    for (const source of list) {
      if (!isMap(source)) throw new ConversionError('a << merge takes a mapping, an alias of one, or a list of them', source ?? value);
      const merged = this.value(source) as Map<unknown, unknown>;
      for (const [k, v] of merged) {
        if (map.has(k)) continue;
        map.set(k, v);
        const literal = integralFloatLiteral(merged, k);
        if (literal !== undefined) this.recordFloat(map, k, literal);
      }
    }
    // The merge's own anchor (`<<: &x {...}`) is registered by value() above.
  }

  private target(alias: Node): Node | null {
    const target = this.anchors.get((alias as unknown as { source: string }).source);
    if (!target) throw new ConversionError(`alias *${(alias as unknown as { source: string }).source} refers to no anchor defined before it`, alias);
    return target;
  }

  private noteFloat(container: object, key: unknown, node: Node | null | undefined) {
    const scalar = isAlias(node) ? this.anchors.get(node.source) : node;
    if (isScalar(scalar) && scalar.format === GO_FLOAT_FORMAT && Number.isInteger(scalar.value)) {
      this.recordFloat(container, key, scalar.source ?? String(scalar.value));
    }
  }

  private recordFloat(container: object, key: unknown, literal: string) {
    let entries = integralFloats.get(container);
    if (!entries) integralFloats.set(container, (entries = new Map()));
    entries.set(key, literal);
  }
}

function locate(doc: Document, path: readonly (string | number)[]): { node: Node | null; keyNode: Node | null; complete: boolean } {
  let node = resolve(doc, doc.contents as Node | null);
  let keyNode: Node | null = null;
  for (const step of path) {
    let next: Node | null = null;
    let nextKey: Node | null = null;
    if (isSeq(node)) {
      const index = typeof step === 'number' ? step : /^\d+$/.test(step) ? Number(step) : -1;
      next = index >= 0 ? resolve(doc, node.items[index] as Node | null) : null;
    } else if (isMap(node)) {
      for (const pair of node.items) {
        if (isPair(pair) && isScalar(pair.key) && String(pair.key.value) === String(step)) {
          nextKey = pair.key;
          // A key without a value (`key:`) may have no value node; point at the key then.
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
