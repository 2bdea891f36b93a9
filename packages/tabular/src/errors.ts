/** Why a whole file is refused: reported before (or, for row counts, instead of finishing) the import. */
export type TableErrorCode =
  | 'unsupported_format'
  | 'file_too_large'
  | 'invalid_encoding'
  | 'sheet_not_found'
  | 'header_invalid'
  | 'too_many_rows'
  | 'record_too_large'
  | 'malformed_csv'
  | 'malformed_xlsx';

/** What is wrong with the header row; all problems are reported at once. */
export type HeaderProblemCode =
  | 'missing_required_column'
  | 'duplicate_column'
  | 'unknown_column'
  | 'too_many_columns';

export interface HeaderProblem {
  readonly code: HeaderProblemCode;
  /** Canonical field, when the problem concerns one. */
  readonly field?: string;
  /** Header text(s) as written in the file. */
  readonly headers?: readonly string[];
  /** Spreadsheet column letters (A, B, …, AA) of the cells concerned. */
  readonly columns?: readonly string[];
  readonly message: string;
}

/** Why one row's cell was not read; the row is still yielded so the import can report it. */
export type CellProblemCode =
  | 'cell_too_long'
  | 'formula_without_result'
  | 'cell_error'
  | 'invalid_characters';

export interface CellProblem {
  readonly code: CellProblemCode;
  readonly field: string;
  /** Spreadsheet column letter. */
  readonly column: string;
  readonly message: string;
}

/** A file refused as a whole. `problems` lists every header problem when code is `header_invalid`. */
export class TableError extends Error {
  override readonly name = 'TableError';
  constructor(
    readonly code: TableErrorCode,
    message: string,
    readonly problems: readonly HeaderProblem[] = [],
    /** The spreadsheet row the error was found at, when there is one. */
    readonly rowNumber?: number,
  ) {
    super(message);
  }

  /** For the HTTP edge's `{ error: { code, message, details } }`. */
  get details(): { readonly problems: readonly HeaderProblem[]; readonly rowNumber?: number } {
    return this.rowNumber === undefined
      ? { problems: this.problems }
      : { problems: this.problems, rowNumber: this.rowNumber };
  }
}

/** 0 → "A", 25 → "Z", 26 → "AA": how staff name columns. */
export function columnLetter(index: number): string {
  let n = index + 1;
  let letters = '';
  while (n > 0) {
    const rest = (n - 1) % 26;
    letters = String.fromCharCode(65 + rest) + letters;
    n = Math.floor((n - 1) / 26);
  }
  return letters;
}
