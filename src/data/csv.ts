// RFC 4180 CSV: comma separated, fields optionally in double quotes, "" inside quotes is a
// quote, and quoted fields may span lines. Each record keeps the 1-based line it starts on,
// because every error about a record has to name that line.

import { DatasetError } from './errors.js';

export interface CsvRecord {
  /** 1-based line number of the record's first character in the file. */
  line: number;
  fields: string[];
}

/**
 * Parses CSV text. A leading UTF-8 BOM is ignored; CRLF and LF both end records; blank lines
 * are skipped (their numbers still count). `file` is only used in error messages.
 */
export function parseCsv(text: string, file: string): CsvRecord[] {
  const records: CsvRecord[] = [];
  let i = text.charCodeAt(0) === 0xfeff ? 1 : 0;
  let line = 1;
  const n = text.length;
  while (i < n) {
    const startLine = line;
    const fields: string[] = [];
    let field = '';
    let sawAny = false;
    for (;;) {
      if (i >= n) {
        fields.push(field);
        break;
      }
      const c = text[i]!;
      // Only a quote at the start of a field opens a quoted field; a quote inside an unquoted
      // field (a"b) is kept literally, as most readers do.
      if (c === '"' && field === '') {
        // quoted field: read to the closing quote
        i++;
        const openLine = line;
        let closed = false;
        while (i < n) {
          const q = text[i]!;
          if (q === '"') {
            if (text[i + 1] === '"') {
              field += '"';
              i += 2;
              continue;
            }
            i++;
            closed = true;
            break;
          }
          if (q === '\n') line++;
          field += q;
          i++;
        }
        if (!closed) {
          throw new DatasetError('malformed CSV', [
            { file, row: openLine, reason: 'a quoted field is never closed; expected a closing double quote' },
          ]);
        }
        sawAny = true;
        const next = text[i];
        if (next !== undefined && next !== ',' && next !== '\n' && next !== '\r') {
          throw new DatasetError('malformed CSV', [
            { file, row: line, reason: `unexpected '${next}' after a quoted field; expected a comma or the end of the line` },
          ]);
        }
        continue;
      }
      if (c === ',') {
        fields.push(field);
        field = '';
        sawAny = true;
        i++;
        continue;
      }
      if (c === '\r' || c === '\n') {
        fields.push(field);
        if (c === '\r' && text[i + 1] === '\n') i++;
        i++;
        line++;
        break;
      }
      field += c;
      sawAny = true;
      i++;
    }
    const blank = !sawAny && fields.length === 1 && fields[0] === '';
    if (!blank) records.push({ line: startLine, fields });
  }
  return records;
}

/** Quotes a field when it holds a comma, quote or line break. */
export function csvField(value: string): string {
  return /[",\r\n]/.test(value) ? `"${value.replace(/"/g, '""')}"` : value;
}

export function csvLine(values: readonly string[]): string {
  return values.map(csvField).join(',');
}
