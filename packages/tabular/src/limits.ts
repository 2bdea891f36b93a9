/**
 * Excel refuses to hold more than 32,767 characters in a cell, so a longer cell
 * did not come from a spreadsheet staff can open and check: it is refused, per
 * row, and the rest of the file is still read.
 */
export const cellLengthMax = 32_767;

/**
 * Excel's own sheet limit (2^20 rows). Rosters and ledgers run to 100,000+ rows;
 * a file longer than any spreadsheet can show is refused as a whole. Callers can
 * pass a lower `rowsMax` for their import.
 */
export const rowsMax = 1_048_576;

/**
 * Our widest sheet (the household roster) has a few dozen columns. A header with
 * hundreds of cells is a wrong file or an attack on memory; refused before any
 * row is read.
 */
export const columnsMax = 512;

/**
 * Chinese rosters often start with a title row ("XX县2019年危房改造补助花名册"),
 * a date or a unit line above the real header; we look this far for it.
 */
export const headerSearchRowsMax = 10;

/**
 * One CSV record (all its cells and quotes) may hold at most this many characters.
 * Above `cellLengthMax` a cell is refused per row; above this the parser itself
 * stops (the record must be held in memory to be refused), and the file is refused.
 */
export const csvRecordLengthMax = 64 * 1024 * 1024;

/**
 * An XLSX is a zip; its shared strings are held in memory while rows stream.
 * 200 MiB is several times a 1,000,000-row sheet of our widest roster; a larger
 * upload is refused before unzipping.
 */
export const xlsxBytesMax = 200 * 1024 * 1024;

/**
 * The sheet we read, inflated. A 100,000-row roster is about 100 MiB of XML; a
 * full 1,048,576-row sheet of a dozen columns about 1 GiB. Counted while
 * inflating (not taken from the zip's declared sizes, which a zip bomb fakes),
 * before exceljs sees the file.
 */
export const xlsxSheetInflatedBytesMax = 1024 * 1024 * 1024;

/**
 * The shared strings, inflated: exceljs keeps them all in memory (as JS strings,
 * about twice their UTF-8 size) for the whole read.
 */
export const xlsxSharedStringsInflatedBytesMax = 256 * 1024 * 1024;

/** Excel's sheet-name limit. */
export const sheetNameLengthMax = 31;
