import { hiddenMark } from '@fundtrace/pii';

/**
 * Free text from the public, made safe to store in an event that the board will publish back:
 * personal numbers a villager may type (a neighbour's ID number, a phone, a bank card) are hidden
 * before the text leaves the board (ObjectionFiled's summary must hold no personal data).
 *
 * Any run of seven or more digits, possibly split by spaces or dashes and ending in an ID number's
 * X, is hidden: shorter runs are amounts, dates and house numbers a reader needs; seven digits is
 * below every ID (18), mobile (11), landline (7–8) and bank account (12–19) length.
 */
const personalNumber = /\d(?:[\s-]*\d){6,}(?:[\s-]*[xX])?/g;
/** Control characters (other than line breaks) have no place in a complaint and can hide text. */
const controlChars =
  /[\u0000-\u0009\u000b\u000c\u000e-\u001f\u007f-\u009f\u200b-\u200f\u202a-\u202e\u2066-\u2069]/g;
/** Full-width digits (０-９) are turned into ASCII first so they are caught by the same rule. */
const fullWidthDigits = /[\uff10-\uff19\uff38\uff58]/g;

export function maskObjectionText(text: string): string {
  return text
    .normalize('NFC')
    .replace(fullWidthDigits, (c) => String.fromCharCode(c.charCodeAt(0) - 0xfee0))
    .replace(controlChars, '')
    .replace(/\r\n?/g, '\n')
    .replace(personalNumber, hiddenMark)
    .trim();
}
