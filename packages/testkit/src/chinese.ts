/** English words a Chinese message never holds (a check that cannot tell ids from words). */
const englishWords =
  /\b(the|is|was|are|has|have|had|not|of|and|or|for|to|an|be|this|that|already|only|it|its|by|in|on|with|from|than|no)\b/i;

/**
 * Why `message` is not a refusal worded in Chinese for the officer who reads it (decision 0131),
 * or undefined when it is: it needs Chinese words and no English prose. Given the identifiers it
 * quotes (ids, codes the officer typed), nothing of two Latin letters in a row may be left once
 * they are taken out; without them, no common English word.
 */
export function notChinese(message: string, identifiers: readonly string[] = []): string | undefined {
  if (!/\p{Script=Han}{2}/u.test(message)) return `no Chinese words in "${message}"`;
  const word = englishWords.exec(message);
  if (word !== null) return `the English word "${word[0]}" in "${message}"`;
  let rest = message;
  for (const id of [...identifiers].sort((x, y) => y.length - x.length)) rest = rest.replaceAll(id, ' ');
  const latin = identifiers.length > 0 ? /[A-Za-z]{2,}/.exec(rest) : null;
  if (latin !== null) return `"${latin[0]}", not one of its identifiers, in "${message}"`;
  return undefined;
}

/**
 * The facts in a refusal's arguments, as its message must quote them: every string and number
 * (ids, dates, counts), bigints through `bigint` (fen as 元), walking objects and arrays. Keys in
 * `skip` are facts a message says in words of its own (a status named 已到账), not as they are.
 */
export function factsOf(
  args: unknown,
  options: { readonly skip?: ReadonlySet<string>; readonly bigint?: (value: bigint) => string } = {},
): string[] {
  const { skip = new Set<string>(), bigint = String } = options;
  const out: string[] = [];
  const walk = (value: unknown, key: string | null) => {
    if (key !== null && skip.has(key)) return;
    if (typeof value === 'bigint') out.push(bigint(value));
    else if (typeof value === 'string' || typeof value === 'number') out.push(String(value));
    else if (Array.isArray(value)) for (const v of value) walk(v, null);
    else if (typeof value === 'object' && value !== null)
      for (const [k, v] of Object.entries(value)) walk(v, k);
  };
  walk(args, null);
  return out;
}
