/**
 * A JSON syntax scanner that records where the parts of seed data start: each key of the top-level
 * object and, where its value is an array, each element. JSON.parse gives values but no positions;
 * this gives positions (and the offset of a syntax error) but no values. Iterative, so deep nesting
 * cannot overflow the stack; regular expressions skip the bodies of strings and numbers.
 */

export interface KeyLayout {
  /** The key, decoded. */
  name: string;
  /** Offset of the key's opening quote. */
  offset: number;
  /** Offsets of the elements when the value is an array (else empty). */
  elements: number[];
}

export interface SeedLayout {
  /** Offset of the top-level value. */
  rootOffset: number;
  /** The keys of the top-level object, in the order written (duplicates included). */
  keys: KeyLayout[];
}

/** The text is not JSON; `offset` is where it goes wrong. */
export class JsonSyntaxError extends Error {
  constructor(readonly offset: number) {
    super(`JSON syntax error at offset ${offset}`);
    this.name = 'JsonSyntaxError';
  }
}

const WHITESPACE = /[ \t\n\r]*/y;
const STRING_BODY = /[^"\\\u0000-\u001f]*/y;
const ESCAPE = /\\(?:["\\/bfnrt]|u[0-9a-fA-F]{4})/y;
const NUMBER = /-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?/y;
const LITERAL = /true|false|null/y;

type Expecting = 'value' | 'key' | 'next';

export function scanSeedLayout(text: string): SeedLayout {
  const scanner = new Scanner(text);
  const open: Array<'{' | '['> = [];
  const keys: KeyLayout[] = [];
  const rootOffset = scanner.skipWhitespace();
  const rootIsObject = text[rootOffset] === '{';
  let expecting: Expecting = 'value';
  for (;;) {
    const at = scanner.skipWhitespace();
    if (expecting === 'key') {
      scanner.string();
      if (open.length === 1 && rootIsObject)
        keys.push({ name: JSON.parse(text.slice(at, scanner.position)) as string, offset: at, elements: [] });
      scanner.skipWhitespace();
      scanner.expect(':');
      expecting = 'value';
    } else if (expecting === 'value') {
      if (open.length === 2 && rootIsObject && open[1] === '[') keys.at(-1)?.elements.push(at);
      expecting = scanner.valueStart(open);
    } else if (open.length === 0) {
      if (at !== text.length) throw new JsonSyntaxError(at);
      return { rootOffset, keys };
    } else {
      expecting = scanner.afterValue(open);
    }
  }
}

class Scanner {
  position = 0;

  constructor(private readonly text: string) {}

  skipWhitespace(): number {
    this.position = this.sticky(WHITESPACE);
    return this.position;
  }

  expect(char: string): void {
    if (this.text[this.position] !== char) throw new JsonSyntaxError(this.position);
    this.position += 1;
  }

  /** At a value: opens a container (what comes next) or skips a string, number or literal. */
  valueStart(open: Array<'{' | '['>): Expecting {
    const char = this.text[this.position];
    if (char === '{' || char === '[') {
      this.position += 1;
      const close = char === '{' ? '}' : ']';
      if (this.text[this.skipWhitespace()] === close) {
        this.position += 1;
        return 'next';
      }
      open.push(char);
      return char === '{' ? 'key' : 'value';
    }
    if (char === '"') this.string();
    else {
      const end = this.sticky(char === 't' || char === 'f' || char === 'n' ? LITERAL : NUMBER);
      if (end === -1) throw new JsonSyntaxError(this.position);
      this.position = end;
    }
    return 'next';
  }

  /** After a value inside a container: a comma, or the container's end. */
  afterValue(open: Array<'{' | '['>): Expecting {
    const inner = open.at(-1);
    const char = this.text[this.position];
    this.position += 1;
    if (char === ',') return inner === '{' ? 'key' : 'value';
    if ((inner === '{' && char === '}') || (inner === '[' && char === ']')) {
      open.pop();
      return 'next';
    }
    throw new JsonSyntaxError(this.position - 1);
  }

  /** Skips a string from its opening quote. */
  string(): void {
    if (this.text[this.position] !== '"') throw new JsonSyntaxError(this.position);
    let at = this.position + 1;
    for (;;) {
      STRING_BODY.lastIndex = at;
      STRING_BODY.exec(this.text);
      at = STRING_BODY.lastIndex;
      const char = this.text[at];
      if (char === '"') break;
      if (char !== '\\') throw new JsonSyntaxError(at);
      ESCAPE.lastIndex = at;
      if (!ESCAPE.test(this.text)) throw new JsonSyntaxError(at);
      at = ESCAPE.lastIndex;
    }
    this.position = at + 1;
  }

  /** The end of a match of `pattern` at the position, or -1. */
  private sticky(pattern: RegExp): number {
    pattern.lastIndex = this.position;
    return pattern.exec(this.text) ? pattern.lastIndex : -1;
  }
}
