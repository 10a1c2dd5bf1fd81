/** lib/audit.ts: durations, owned prefixes, the sorting of a listing into orphans and broken links, the text. */
import assert from 'node:assert/strict';
import {
  formatBytes,
  formatDeletable,
  formatReport,
  groupOf,
  ownedPrefixes,
  parseMinAge,
  projectPython,
  summarise,
  type AuditListing,
} from '../../lib/audit.js';
import { UserError } from '../../lib/types.js';

const NOW = Date.parse('2026-06-15T12:00:00Z') / 1000;
const DAY = 86_400;

const listing: AuditListing = {
  backend: 'storages.backends.s3boto3.S3Boto3Storage',
  location: 'media',
  django: '3.2.25',
  rows: [
    { table: 'files', id: 'a', name: 'uploadedfiles/a.jpg', exists: true },
    { table: 'files', id: 'b', name: 'uploadedfiles/b.jpg', exists: false },
    { table: 'values', id: 'c', name: 'concepts/c.png', exists: false },
  ],
  objects: [
    { name: 'uploadedfiles/a.jpg', referenced: true },
    { name: 'uploadedfiles/old.jpg', referenced: false, size: 2048, modified: NOW - 30 * DAY },
    { name: 'uploadedfiles/tmp/t.bin', referenced: false, size: 100, modified: NOW - 8 * DAY },
    { name: 'archestemp/x.csv', referenced: false, size: 1, modified: NOW - 3600 },
    { name: 'exports/e.zip', referenced: false, size: 10, modified: NOW - 9 * DAY },
  ],
};

describe('lib/audit', function () {
  it('parses 7d, 12h, 30m and refuses anything else with exit 2', function () {
    assert.equal(parseMinAge('7d'), 7 * DAY);
    assert.equal(parseMinAge('12h'), 12 * 3600);
    assert.equal(parseMinAge('30m'), 1800);
    assert.equal(parseMinAge('0m'), 0);
    for (const bad of ['7', '7w', '-1d', '1.5h', '', 'd']) {
      assert.throws(
        () => parseMinAge(bad),
        (e: unknown) => e instanceof UserError && e.exitCode === 2 && e.subject === 'min-age',
        bad,
      );
    }
  });

  it('owns uploadedfiles/, concepts/, archestemp/ and each --prefix, refusing paths that leave the storage', function () {
    assert.deepEqual(ownedPrefixes(), ['uploadedfiles/', 'concepts/', 'archestemp/']);
    assert.deepEqual(ownedPrefixes(['exports', 'a/b/', 'uploadedfiles/tmp']), [
      'uploadedfiles/',
      'concepts/',
      'archestemp/',
      'exports/',
      'a/b/',
    ]);
    for (const bad of ['/etc', '../x', 'a/../b', './a', '/', 'a//b', 'a\\b'])
      assert.throws(
        () => ownedPrefixes([bad]),
        (e: unknown) => e instanceof UserError && e.exitCode === 2,
        bad,
      );
  });

  it('groups by the longest known prefix (uploadedfiles/tmp/ apart from uploadedfiles/)', function () {
    const p = ownedPrefixes(['exports/']);
    assert.equal(groupOf('uploadedfiles/tmp/x', p), 'uploadedfiles/tmp/');
    assert.equal(groupOf('uploadedfiles/x/y', p), 'uploadedfiles/');
    assert.equal(groupOf('concepts/x', p), 'concepts/');
    assert.equal(groupOf('exports/x', p), 'exports/');
  });

  it('sorts a listing into orphans (counts, bytes, oldest/newest by prefix) and broken links', function () {
    const r = summarise(listing, { prefixes: ownedPrefixes(['exports/']), now: NOW, minAgeSeconds: 7 * DAY });
    assert.equal(r.rows, 3);
    assert.equal(r.objects, 5);
    assert.equal(r.referenced, 1);
    assert.equal(r.orphans.count, 4);
    assert.equal(r.orphans.bytes, 2159);
    assert.equal(r.orphans.oldest, '2026-05-16T12:00:00.000Z');
    assert.equal(r.orphans.newest, '2026-06-15T11:00:00.000Z');
    assert.deepEqual(
      r.orphans.groups.map((g) => [g.prefix, g.count, g.bytes]),
      [
        ['archestemp/', 1, 1],
        ['exports/', 1, 10],
        ['uploadedfiles/', 1, 2048],
        ['uploadedfiles/tmp/', 1, 100],
      ],
    );
    assert.deepEqual(
      r.orphanList.filter((o) => o.deletable).map((o) => o.name),
      ['uploadedfiles/old.jpg', 'uploadedfiles/tmp/t.bin', 'exports/e.zip'],
      'older than 7 days',
    );
    assert.deepEqual(r.broken, [
      { table: 'files', id: 'b', name: 'uploadedfiles/b.jpg' },
      { table: 'values', id: 'c', name: 'concepts/c.png' },
    ]);
  });

  it('honours the minimum age exactly (an orphan exactly min-age old is deletable)', function () {
    const r = summarise(listing, { prefixes: ownedPrefixes(), now: NOW, minAgeSeconds: 8 * DAY });
    assert.deepEqual(
      r.orphanList.filter((o) => o.deletable).map((o) => o.name),
      ['uploadedfiles/old.jpg', 'uploadedfiles/tmp/t.bin', 'exports/e.zip'],
    );
    const later = summarise(listing, { prefixes: ownedPrefixes(), now: NOW, minAgeSeconds: 8 * DAY + 1 });
    assert.ok(!later.orphanList.find((o) => o.name === 'uploadedfiles/tmp/t.bin')!.deletable);
  });

  it('prints the totals, a table by prefix, every broken link and the deletion list', function () {
    const r = summarise(listing, { prefixes: ownedPrefixes(['exports/']), now: NOW, minAgeSeconds: 7 * DAY });
    const text = formatReport(r);
    assert.match(text, /^Storage: storages\.backends\.s3boto3\.S3Boto3Storage \(location "media"\)/);
    assert.match(
      text,
      /Orphans \(objects no row references\): 4, 2\.1 KiB, oldest 2026-05-16T12:00:00\.000Z/,
    );
    assert.match(text, /^ {2}uploadedfiles\/tmp\/ +1 +100 B +2026-06-07T12:00:00\.000Z/m);
    assert.match(
      text,
      /Broken links \(rows whose object is missing\): 2\n {2}table +id +name\n {2}files +b +uploadedfiles\/b\.jpg/,
    );
    assert.match(
      formatDeletable(r),
      /^Orphans older than 7d: 3, 2\.1 KiB \(1 younger kept\)\n {2}uploadedfiles\/old\.jpg/,
    );
    const clean = summarise(
      { ...listing, rows: [], objects: [] },
      { prefixes: ownedPrefixes(), now: NOW, minAgeSeconds: 0 },
    );
    assert.match(
      formatReport(clean),
      /Orphans \(objects no row references\): none[\s\S]*Broken links \(rows whose object is missing\): none/,
    );
  });

  it('formats bytes in binary units', function () {
    assert.equal(formatBytes(0), '0 B');
    assert.equal(formatBytes(1023), '1023 B');
    assert.equal(formatBytes(1536), '1.5 KiB');
    assert.equal(formatBytes(5 * 1024 ** 3), '5.0 GiB');
  });

  it('wants the project’s own interpreter: none found is exit 2 saying to pass --python', function () {
    assert.throws(
      () => projectPython('/nonexistent-project', undefined, { PATH: '/usr/bin' }),
      (e: unknown) =>
        e instanceof UserError &&
        e.exitCode === 2 &&
        /pass --python/.test(e.message) &&
        !e.message.includes('\n'),
    );
    assert.equal(
      projectPython('/nonexistent-project', '/usr/bin/python3', { PATH: '/usr/bin' }).source,
      '--python',
    );
  });
});
