// Reading a CSV file as a header plus records, with the checks every CSV reader needs:
// readable file, a header, the required columns, and the same field count on every line.

import { readFile } from 'node:fs/promises';
import { parseCsv, type CsvRecord } from './csv.js';
import { DatasetError, type DataIssue } from './errors.js';

export interface CsvTable {
  file: string;
  /** Header names, trimmed and lower-cased. */
  columns: string[];
  /** 1-based line of the header. */
  headerLine: number;
  /** Data records whose field count matches the header. */
  records: CsvRecord[];
  /** Records with the wrong number of fields. */
  issues: DataIssue[];
}

export async function readCsvText(file: string): Promise<string> {
  try {
    return await readFile(file, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code ?? (e as Error).message;
    throw new DatasetError(`cannot read CSV ${file}`, [
      { file, row: null, reason: `cannot read file (${code}); expected a readable CSV file` },
    ]);
  }
}

/** Header names of a CSV (trimmed, lower-cased), or [] for an empty file. For format detection. */
export async function csvColumns(file: string): Promise<string[]> {
  const records = parseCsv(await readCsvText(file), file);
  return records[0]?.fields.map((f) => f.trim().toLowerCase()) ?? [];
}

/**
 * Reads `file`, requires a header containing every name in `required` (case-insensitive) and
 * sorts records into usable ones and ones with the wrong field count. `layout` describes the
 * expected header for error messages, e.g. "image,label,split[,mask][,site]".
 */
export async function readCsvTable(file: string, required: readonly string[], layout: string): Promise<CsvTable> {
  const records = parseCsv(await readCsvText(file), file);
  const header = records[0];
  if (!header) {
    throw new DatasetError(`empty CSV ${file}`, [{ file, row: 1, reason: `no header row; expected a header ${layout}` }]);
  }
  const columns = header.fields.map((f) => f.trim().toLowerCase());
  const missing = required.filter((r) => !columns.includes(r));
  if (missing.length > 0) {
    throw new DatasetError(`CSV ${file} lacks required columns`, [
      {
        file,
        row: header.line,
        reason: `missing column${missing.length > 1 ? 's' : ''} ${missing.join(', ')}; expected a header ${layout}, found ${columns.join(',')}`,
      },
    ]);
  }
  const seen = new Set<string>();
  for (const c of columns) {
    if (c !== '' && seen.has(c)) {
      throw new DatasetError(`CSV ${file} has a repeated column`, [
        { file, row: header.line, reason: `column '${c}' appears twice; expected each column once` },
      ]);
    }
    seen.add(c);
  }
  const ok: CsvRecord[] = [];
  const issues: DataIssue[] = [];
  for (const r of records.slice(1)) {
    if (r.fields.length === columns.length) ok.push(r);
    else {
      issues.push({
        file,
        row: r.line,
        reason: `${r.fields.length} field${r.fields.length === 1 ? '' : 's'}; expected ${columns.length} as in the header (${columns.join(',')})`,
      });
    }
  }
  return { file, columns, headerLine: header.line, records: ok, issues };
}

/** Field of `record` under column `name` (trimmed), or '' when the table has no such column. */
export function field(table: CsvTable, record: CsvRecord, name: string): string {
  const j = table.columns.indexOf(name);
  return j < 0 ? '' : (record.fields[j] ?? '').trim();
}
