/**
 * PostgreSQL truncates identifiers to NAMEDATALEN - 1 = 63 bytes; a longer schema or database
 * name would silently alias another one, so we refuse it instead.
 */
export const identifierLengthMax = 63;

/**
 * Lower-case letters, digits and underscores, starting with a letter or underscore. Such a name
 * needs no quoting anywhere (search_path in a startup packet, CREATE DATABASE, URLs), so a name
 * coming from configuration can never smuggle SQL or change meaning when PostgreSQL folds case.
 */
const identifierPattern = /^[a-z_][a-z0-9_]*$/;

/** Throws unless `name` is a plain identifier we accept for schemas and databases. */
export function assertIdentifier(kind: 'schema' | 'database' | 'table' | 'column', name: string): void {
  if (name.length === 0 || name.length > identifierLengthMax || !identifierPattern.test(name)) {
    throw new Error(
      `Invalid ${kind} name ${JSON.stringify(name)}: expected 1–${identifierLengthMax} characters of [a-z0-9_], not starting with a digit`,
    );
  }
  if (name.startsWith('pg_')) {
    throw new Error(`Invalid ${kind} name ${JSON.stringify(name)}: the pg_ prefix is reserved by PostgreSQL`);
  }
}
