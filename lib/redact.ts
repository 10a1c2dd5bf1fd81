/**
 * Redaction for everything the generator prints (plans, diffs, logs, errors, JSON): a secret is replaced in
 * every form it can take in that text — as is, JSON/Python-escaped (`\/`, `\\`, `\"`), URL-encoded in either
 * hex case (`%2F`, `%2f`, `+` for a space) and base64 — so a value quoted in a settings line, a query string or
 * an escaped JSON document is hidden too.
 */
export const MASK = '********';

/** The forms a secret may be printed in, longest first (a form containing another is replaced whole). */
export function secretForms(secret: string): string[] {
  const forms = new Set<string>([secret]);
  const json = JSON.stringify(secret).slice(1, -1);
  forms.add(json);
  forms.add(json.replace(/\//g, '\\/'));
  forms.add(secret.replace(/\\/g, '\\\\').replace(/'/g, "\\'"));
  const url = encodeURIComponent(secret);
  forms.add(url);
  forms.add(url.replace(/%[0-9A-F]{2}/g, (m) => m.toLowerCase()));
  forms.add(url.replace(/%20/g, '+'));
  forms.add(encodeURI(secret));
  forms.add(Buffer.from(secret, 'utf8').toString('base64'));
  forms.add(Buffer.from(secret, 'utf8').toString('base64url'));
  return [...forms].filter((f) => f.length >= 4).sort((a, b) => b.length - a.length);
}

/** Replaces every form of every secret (values shorter than 4 characters are not secrets worth hiding). */
export function redact(text: string, secrets: object): string {
  let out = text;
  for (const s of Object.values(secrets) as unknown[]) {
    if (typeof s !== 'string' || s.length < 4) continue;
    for (const form of secretForms(s)) out = out.split(form).join(MASK);
  }
  return out;
}
