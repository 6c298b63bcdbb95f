/**
 * The part of Structured Field Values for HTTP (RFC 9651) that the RateLimit fields use: a
 * List (§3.1) of Items with Parameters (§3.1.2), inner lists included so that a valid list is
 * never misread. Parsing follows §4.2: any syntax error fails the whole field (`undefined`),
 * which the RateLimit draft says to ignore.
 */

export type BareItem = number | string | boolean | SfToken | Uint8Array | SfDate;

/** A Token (§3.3.4), kept apart from a String so a caller can tell `a` from `"a"`. */
export class SfToken {
  constructor(readonly value: string) {}
}

/** A Date (§3.3.7): seconds since the epoch. */
export class SfDate {
  constructor(readonly seconds: number) {}
}

export interface SfItem {
  readonly value: BareItem | readonly SfItem[];
  readonly params: ReadonlyMap<string, BareItem>;
}

class Fail extends Error {}

/** Parse a List field value; undefined when it does not follow the grammar. */
export function parseList(input: string): SfItem[] | undefined {
  const p = new Parser(input.replace(/^ +| +$/g, ''));
  try {
    return p.list();
  } catch (err) {
    if (err instanceof Fail) return undefined;
    throw err;
  }
}

const KEY_FIRST = /[a-z*]/;
const KEY_REST = /[a-z0-9_\-.*]/;
const TOKEN_FIRST = /[A-Za-z*]/;
const TCHAR = /[!#$%&'*+\-.^_`|~0-9A-Za-z:/]/;
const BASE64 = /[A-Za-z0-9+/=]/;

class Parser {
  #i = 0;
  constructor(readonly s: string) {}

  list(): SfItem[] {
    const out: SfItem[] = [];
    if (this.s.length === 0) return out;
    for (;;) {
      out.push(this.s[this.#i] === '(' ? this.#innerList() : this.#item());
      this.#ows();
      if (this.#i >= this.s.length) return out;
      if (this.s[this.#i++] !== ',') throw new Fail();
      this.#ows();
      if (this.#i >= this.s.length) throw new Fail(); // trailing comma
    }
  }

  #ows(): void {
    while (this.s[this.#i] === ' ' || this.s[this.#i] === '\t') this.#i++;
  }

  #innerList(): SfItem {
    this.#i++; // (
    const items: SfItem[] = [];
    for (;;) {
      while (this.s[this.#i] === ' ') this.#i++;
      if (this.#i >= this.s.length) throw new Fail();
      if (this.s[this.#i] === ')') {
        this.#i++;
        return { value: items, params: this.#params() };
      }
      items.push(this.#item());
      const c = this.s[this.#i];
      if (c !== ' ' && c !== ')') throw new Fail();
    }
  }

  #item(): SfItem {
    const value = this.#bare();
    return { value, params: this.#params() };
  }

  #params(): Map<string, BareItem> {
    const params = new Map<string, BareItem>();
    while (this.s[this.#i] === ';') {
      this.#i++;
      while (this.s[this.#i] === ' ') this.#i++;
      const key = this.#key();
      let value: BareItem = true;
      if (this.s[this.#i] === '=') {
        this.#i++;
        value = this.#bare();
      }
      params.set(key, value); // a repeated key: the last one wins (§4.2.3.2)
    }
    return params;
  }

  #key(): string {
    const start = this.#i;
    if (!KEY_FIRST.test(this.s[this.#i] ?? '')) throw new Fail();
    this.#i++;
    while (this.#i < this.s.length && KEY_REST.test(this.s[this.#i]!)) this.#i++;
    return this.s.slice(start, this.#i);
  }

  #bare(): BareItem {
    const c = this.s[this.#i] ?? '';
    if (c === '-' || (c >= '0' && c <= '9')) return this.#number();
    if (c === '"') return this.#string();
    if (TOKEN_FIRST.test(c)) return this.#token();
    if (c === ':') return this.#bytes();
    if (c === '?') return this.#boolean();
    if (c === '@') {
      this.#i++;
      const n = this.#number();
      if (!Number.isInteger(n)) throw new Fail();
      return new SfDate(n);
    }
    throw new Fail(); // display strings (%"...") are not used by any field read here
  }

  #number(): number {
    const m = /^(-?)(\d{1,15})(?:\.(\d{1,3}))?/.exec(this.s.slice(this.#i));
    if (m === null) throw new Fail();
    if (m[3] !== undefined && m[2]!.length > 12) throw new Fail();
    const next = this.s[this.#i + m[0].length];
    if (next !== undefined && next >= '0' && next <= '9') throw new Fail(); // too many digits
    if (m[3] === undefined && next === '.') throw new Fail(); // a decimal point with no fraction
    this.#i += m[0].length;
    return Number(m[0]);
  }

  #string(): string {
    this.#i++;
    let out = '';
    for (;;) {
      const c = this.s[this.#i++];
      if (c === undefined) throw new Fail();
      if (c === '"') return out;
      if (c === '\\') {
        const e = this.s[this.#i++];
        if (e !== '"' && e !== '\\') throw new Fail();
        out += e;
      } else {
        const code = c.charCodeAt(0);
        if (code < 0x20 || code > 0x7e) throw new Fail();
        out += c;
      }
    }
  }

  #token(): SfToken {
    const start = this.#i++;
    while (this.#i < this.s.length && TCHAR.test(this.s[this.#i]!)) this.#i++;
    return new SfToken(this.s.slice(start, this.#i));
  }

  #bytes(): Uint8Array {
    const start = ++this.#i;
    while (this.#i < this.s.length && BASE64.test(this.s[this.#i]!)) this.#i++;
    if (this.s[this.#i] !== ':') throw new Fail();
    const b64 = this.s.slice(start, this.#i++);
    return new Uint8Array(Buffer.from(b64, 'base64'));
  }

  #boolean(): boolean {
    const c = this.s[this.#i + 1];
    if (c !== '0' && c !== '1') throw new Fail();
    this.#i += 2;
    return c === '1';
  }
}
