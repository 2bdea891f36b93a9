/**
 * HTML built with one tagged template: every interpolated value is escaped unless it is already
 * `Html` (produced by this module), so a name, a summary or a query string typed by a stranger can
 * never become markup. Arrays are joined; null, undefined and false render as nothing.
 */

const htmlBrand: unique symbol = Symbol('html');

export interface Html {
  readonly [htmlBrand]: true;
  readonly text: string;
}

const entities: Readonly<Record<string, string>> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
  '`': '&#96;',
};

/** Escapes text for element content and double- or single-quoted attribute values. */
export function escapeText(value: string): string {
  return value.replace(/[&<>"'`]/g, (c) => entities[c]!);
}

function isHtml(value: unknown): value is Html {
  return typeof value === 'object' && value !== null && (value as Partial<Html>)[htmlBrand] === true;
}

export type Interpolation =
  | Html
  | string
  | number
  | bigint
  | boolean
  | null
  | undefined
  | readonly Interpolation[];

function render(value: Interpolation): string {
  if (value === null || value === undefined || value === false) return '';
  if (Array.isArray(value)) return value.map(render).join('');
  if (isHtml(value)) return value.text;
  return escapeText(String(value));
}

/** `html\`<p>${name}</p>\`` with `name` escaped. */
export function html(strings: TemplateStringsArray, ...values: Interpolation[]): Html {
  let text = strings[0]!;
  for (let i = 0; i < values.length; i++) text += render(values[i]!) + strings[i + 1]!;
  return { [htmlBrand]: true, text };
}

/**
 * Markup written by this service itself (the stylesheet). Never pass anything that came from a
 * request or from the books.
 */
export function trusted(text: string): Html {
  return { [htmlBrand]: true, text };
}
