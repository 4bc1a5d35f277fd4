// Summative codes typed at the keyboard: a digit is the code's place on the scale (1 = lowest rank), letters are
// the code itself, typed until only one code starts with them ("W" → WTS; "A" waits, "AT" → AT, "AB" → ABV).

/** The scale's codes, lowest rank first. */
export function ordered(scale) {
  return [...scale].sort((a, b) => a.rank - b.rank);
}

/** What ``typed`` (the letters so far, or one digit) picks on ``scale``: {code} when one code, {wait: [codes]}
 * while several still start with it, {none: true} when none does. */
export function pick(scale, typed) {
  const codes = ordered(scale);
  if (/^\d$/.test(typed)) {
    const code = codes[Number(typed) - 1];
    return code ? { code } : { none: true };
  }
  const upper = typed.toUpperCase();
  const exact = codes.find((code) => code.code.toUpperCase() === upper);
  const starting = codes.filter((code) => code.code.toUpperCase().startsWith(upper));
  if (starting.length === 1) return { code: starting[0] };
  if (starting.length === 0) return { none: true };
  return exact && starting.every((code) => code === exact || code.code.length > exact.code.length)
    ? { wait: starting, exact } : { wait: starting };
}

/** "1 WTS Working towards, 2 EXS …": the key the page shows under its toolbar. */
export function keyText(scale) {
  return ordered(scale).map((code, i) => `${i + 1} or ${code.code} = ${code.label}`).join(" · ");
}
