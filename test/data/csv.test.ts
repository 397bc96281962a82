import { describe, expect, it } from 'vitest';
import { csvLine, parseCsv } from '../../src/data/csv.js';
import { DatasetError } from '../../src/data/errors.js';

describe('parseCsv', () => {
  it('splits plain records and numbers lines from 1', () => {
    const r = parseCsv('image,label,split\na.png,PLAX,train\nb.png,A4C,val\n', 'x.csv');
    expect(r).toEqual([
      { line: 1, fields: ['image', 'label', 'split'] },
      { line: 2, fields: ['a.png', 'PLAX', 'train'] },
      { line: 3, fields: ['b.png', 'A4C', 'val'] },
    ]);
  });

  it('handles quoted fields with commas, doubled quotes and line breaks, keeping line numbers right', () => {
    const text = 'a,b\n"x, y","say ""hi"""\n"multi\nline",z\nlast,"" \n';
    expect(() => parseCsv(text, 'q.csv')).toThrow(DatasetError); // `"" ` has a stray space after the quotes
    const r = parseCsv('a,b\n"x, y","say ""hi"""\n"multi\nline",z\nlast,""\n', 'q.csv');
    expect(r.map((x) => x.line)).toEqual([1, 2, 3, 5]);
    expect(r[1]!.fields).toEqual(['x, y', 'say "hi"']);
    expect(r[2]!.fields).toEqual(['multi\nline', 'z']);
    expect(r[3]!.fields).toEqual(['last', '']);
  });

  it('accepts CRLF, a BOM, a missing final newline, and skips blank lines without renumbering', () => {
    const r = parseCsv('\ufeffa,b\r\n\r\n1,2\r\n\n3,4', 'w.csv');
    expect(r).toEqual([
      { line: 1, fields: ['a', 'b'] },
      { line: 3, fields: ['1', '2'] },
      { line: 5, fields: ['3', '4'] },
    ]);
  });

  it('keeps empty fields, including trailing ones', () => {
    expect(parseCsv('a,,c,\n', 'e.csv')[0]!.fields).toEqual(['a', '', 'c', '']);
  });

  it('names the file and the line where an unterminated quote starts', () => {
    const e = (() => {
      try {
        parseCsv('a,b\n1,2\n"open,3\n4,5\n', 'bad.csv');
      } catch (err) {
        return err as DatasetError;
      }
      throw new Error('no error');
    })();
    expect(e).toBeInstanceOf(DatasetError);
    expect(e.message).toContain('bad.csv row 3');
    expect(e.message).toContain('expected a closing double quote');
  });

  it('csvLine quotes only where needed and round-trips through parseCsv', () => {
    const values = ['plain', 'with,comma', 'with "quote"', 'line\nbreak', ''];
    const line = csvLine(values);
    expect(line).toBe('plain,"with,comma","with ""quote""","line\nbreak",');
    expect(parseCsv(line, 'rt.csv')[0]!.fields).toEqual(values);
  });
});
