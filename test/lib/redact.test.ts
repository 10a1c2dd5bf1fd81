/** Redaction covers every form a secret is printed in. */
import assert from 'node:assert/strict';
import { MASK, redact } from '../../lib/redact.js';

const SECRET = 'wJalrXUtnFEMI/K7MDENG+bPxRfi"CYEXAMPLE\\KEY';

describe('redact', () => {
  const forms: Record<string, string> = {
    raw: SECRET,
    'JSON-escaped': JSON.stringify(SECRET),
    'JSON with escaped slashes': JSON.stringify(SECRET).replace(/\//g, '\\/'),
    'URL-encoded': encodeURIComponent(SECRET),
    'URL-encoded, lower-case hex': encodeURIComponent(SECRET).replace(/%[0-9A-F]{2}/g, (m) =>
      m.toLowerCase(),
    ),
    'inside a query string': `https://b.s3.amazonaws.com/k?X-Amz-Secret=${encodeURIComponent(SECRET)}&x=1`,
    'Python single-quoted': `'${SECRET.replace(/\\/g, '\\\\')}'`,
    base64: Buffer.from(SECRET).toString('base64'),
  };
  for (const [name, text] of Object.entries(forms)) {
    it(`hides the ${name} form`, () => {
      const out = redact(`before ${text} after`, { secretAccessKey: SECRET });
      assert.ok(out.includes(MASK), out);
      for (const piece of ['wJalrXUtnFEMI', 'CYEXAMPLE', 'd0phbHJYVXRu'])
        assert.ok(!out.includes(piece), `${name}: ${out}`);
    });
  }
  it('leaves other text and short values alone', () => {
    assert.equal(redact('nothing here', { secretAccessKey: SECRET, accessKeyId: 'ab' }), 'nothing here');
  });
});
