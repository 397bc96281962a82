// One error type for all bad dataset input, so the CLI can print it without a stack trace and
// tests can check exactly which records were blamed.

/** One bad record: which file, which CSV line, what was expected. */
export interface DataIssue {
  /** The offending file (image, mask, or the CSV itself when the record is bad). */
  file: string;
  /** 1-based CSV line, or null where there is no CSV (folder layouts) or no single line. */
  row: number | null;
  /** What is wrong and what was expected. */
  reason: string;
  /** The CSV the record came from, when `file` is an image it names. */
  source?: string;
}

/** How many issues a message lists before summarising the rest as "… and K more". */
export const MAX_LISTED_ISSUES = 20;

export function formatIssue(issue: DataIssue): string {
  const where = issue.source && issue.source !== issue.file ? `${issue.source}` : issue.file;
  const rowPart = issue.row === null ? '' : ` row ${issue.row}`;
  const filePart = issue.source && issue.source !== issue.file ? `: ${issue.file}` : '';
  return `${where}${rowPart}${filePart}: ${issue.reason}`;
}

export function formatIssues(issues: readonly DataIssue[]): string {
  const lines = issues.slice(0, MAX_LISTED_ISSUES).map((i) => `  ${formatIssue(i)}`);
  if (issues.length > MAX_LISTED_ISSUES) lines.push(`  … and ${issues.length - MAX_LISTED_ISSUES} more`);
  return lines.join('\n');
}

export class DatasetError extends Error {
  declare readonly issues: readonly DataIssue[];
  /** The records can be left out instead (the loaders' `skipBad`; the CLI's --skip-bad). */
  readonly skippable: boolean;

  constructor(summary: string, issues: readonly DataIssue[] = [], o: { skippable?: boolean } = {}) {
    const n = issues.length;
    const head = n > 1 ? `${summary} (${n} problems)` : summary;
    super(n ? `${head}\n${formatIssues(issues)}` : head);
    this.name = 'DatasetError';
    this.skippable = o.skippable ?? false;
    // not enumerable: the message already lists them, and Node would print all of them again
    // (thousands, for a broken folder) when the error is uncaught
    Object.defineProperty(this, 'issues', { value: issues, enumerable: false });
  }
}
