// The one reading of a comma-separated header list (header-lists.ts; session 18): elements
// between commas, SP and HTAB taken off their ends and nothing else, empty ones skipped, tokens
// compared in any case. Five modules split and trimmed each their own way before.
import { describe, expect, it } from 'vitest';
import { listElements, listHas } from '../../src/gateway/header-lists.js';

describe('header lists', () => {
  it('an element is what lies between commas, OWS (space, tab) off its ends, lowercased; empty ones count for nothing', () => {
    expect(listElements(' Foo ,\tCLOSE\t, ,,keep-alive')).toEqual(['foo', 'close', 'keep-alive']);
    expect(listElements('')).toEqual([]);
    expect(listElements(' , \t,')).toEqual([]);
    expect(listElements('a b, c')).toEqual(['a b', 'c']);
  });

  it('a no-break space (0xA0) or other character is no OWS: it stays part of the element', () => {
    expect(listElements('chunked\xa0')).toEqual(['chunked\xa0']);
    expect(listElements('\xa0close')).toEqual(['\xa0close']);
    expect(listHas('close\xa0', 'close')).toBe(false);
    expect(listHas('chunked\x0b', 'chunked')).toBe(false);
  });

  it('listHas compares tokens in any case, whichever element holds it', () => {
    expect(listHas('foo, Close', 'close')).toBe(true);
    expect(listHas('foo,\tCLOSE ', 'Close')).toBe(true);
    expect(listHas('closed, clos', 'close')).toBe(false);
    expect(listHas('', 'close')).toBe(false);
    expect(listHas(' , ', '')).toBe(false);
  });
});
