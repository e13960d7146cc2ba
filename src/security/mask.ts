/**
 * Masks the channel's secrets where a target echoed them back (an error page that prints
 * the request's headers): the attempt log shows responses to admins and is stored in clear,
 * while the values themselves are stored only encrypted.
 */
export const MASK = "[redacted]";

/** Shorter values are not secrets worth hiding, and masking them would blot out the text. */
const MIN_MASKED_LENGTH = 4;

/** A function that masks these secrets in a text; their spellings are worked out once. */
export function secretMasker(secrets: readonly string[]): (text: string) => string {
  const all = spellings(secrets);
  return (text) => {
    let out = text;
    for (const spelling of all) {
      if (!out) break;
      out = maskCutTail(out.split(spelling).join(MASK), spelling);
    }
    return out;
  };
}

export const maskSecrets = (text: string, secrets: readonly string[]) => secretMasker(secrets)(text);

/** Each secret as sent, as JSON would escape it, and as a URL would encode it. */
function spellings(secrets: readonly string[]): string[] {
  const all = new Set<string>();
  for (const secret of secrets) {
    if (secret.length < MIN_MASKED_LENGTH) continue;
    all.add(secret);
    all.add(JSON.stringify(secret).slice(1, -1));
    all.add(encodeURIComponent(secret));
  }
  // Longest first, so a secret that contains another is masked whole.
  return [...all].sort((a, b) => b.length - a.length);
}

/** The response excerpt is cut at 1 KiB: a secret cut in two still shows its start. */
function maskCutTail(text: string, secret: string): string {
  const head = secret.slice(0, MIN_MASKED_LENGTH);
  for (let i = text.indexOf(head, Math.max(0, text.length - secret.length)); i >= 0; i = text.indexOf(head, i + 1)) {
    if (secret.startsWith(text.slice(i))) return text.slice(0, i) + MASK;
  }
  return text;
}
