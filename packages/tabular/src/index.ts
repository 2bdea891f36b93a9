export { dateToText, isDateFormat, numberToText } from './cells';
export { type ColumnKind, type ColumnSpec, normalizeHeader, type OutputColumn } from './columns';
export type { CsvDelimiter } from './csv-source';
export {
  type CellProblem,
  type CellProblemCode,
  columnLetter,
  type HeaderProblem,
  type HeaderProblemCode,
  TableError,
  type TableErrorCode,
} from './errors';
export { escapeCsvCell, isFormulaLike } from './escape';
export {
  cellLengthMax,
  columnsMax,
  csvRecordLengthMax,
  headerSearchRowsMax,
  rowsMax,
  sheetNameLengthMax,
  xlsxBytesMax,
  xlsxSharedStringsInflatedBytesMax,
  xlsxSheetInflatedBytesMax,
} from './limits';
export { type ReadTableOptions, readTable, type TableInput, type TableRow } from './read';
export {
  type CellValue,
  type Rows,
  templateTimestamp,
  type WriteCsvOptions,
  type WriteTemplateOptions,
  type WriteXlsxOptions,
  writeCsv,
  writeTemplate,
  writeXlsx,
} from './write';
export { xlsxReadAttemptsMax, xlsxStallMs } from './xlsx-source';
export { dosDateTime, withZipEntryTimes } from './zip-times';
