import assert from 'node:assert/strict';
import { compare, valid } from '@renovatebot/pep440';
import {
  compareSpecifiers,
  isSpecifier,
  normalizeName,
  releaseList,
  specifiersIntersect,
  specifierWithin,
} from '../../lib/releases.js';

/** A name no list exists for: only the versions the specifiers name are tried. */
const UNLISTED = 'some-unlisted-package';

describe('lib/releases', () => {
  describe('the release lists', () => {
    const names = ['Django', 'django-storages', 'boto3', 'google-cloud-storage', 'azure-storage-blob'];
    for (const name of names) {
      it(`${name}: valid, distinct, oldest first, with its source and date`, () => {
        const list = releaseList(name)!;
        assert.ok(list, name);
        assert.equal(list.name, normalizeName(name));
        assert.ok(
          list.versions.every((v) => valid(v) !== null),
          'every version is PEP 440',
        );
        assert.equal(new Set(list.versions).size, list.versions.length, 'no duplicates');
        assert.deepEqual([...list.versions].sort(compare), list.versions);
        assert.match(list.source, /\b20\d\d\)$/, 'says up to when');
      });
    }

    it('is found under any spelling of the name', () => {
      assert.equal(releaseList('DJANGO_Storages')?.name, 'django-storages');
      assert.equal(releaseList(UNLISTED), undefined);
    });

    it('holds the real releases and no others', () => {
      const has = (name: string, v: string): boolean => releaseList(name)!.versions.includes(v);
      // Django 1.11 to 6.0.x, the .0 spelled as PyPI has it.
      for (const v of [
        '1.11',
        '1.11.29',
        '2.2.28',
        '3.2',
        '3.2.25',
        '4.2.30',
        '5.1.15',
        '5.2.18',
        '6.0',
        '6.0.9',
      ])
        assert.ok(has('Django', v), `Django ${v}`);
      for (const v of ['1.10.8', '3.2.26', '4.0.11', '1.11.29.1', '6.1'])
        assert.ok(!has('Django', v), `no Django ${v}`);
      assert.equal(releaseList('Django')!.versions.length, 261);
      // django-storages: 1.5.1 and 1.2.2 have no tag but were released.
      for (const v of ['1.5.1', '1.2.2', '1.9.1', '1.12.3', '1.14', '1.14.6'])
        assert.ok(has('django-storages', v), `django-storages ${v}`);
      assert.ok(!has('django-storages', '1.14.0'), '1.14 is spelled 1.14');
      // boto3: no 1.30 to 1.32; every patch of a minor from .0.
      for (const v of ['1.4.4', '1.9.253', '1.26.165', '1.29.7', '1.33.0', '1.43.78'])
        assert.ok(has('boto3', v), `boto3 ${v}`);
      for (const v of ['1.30.0', '1.32.5', '1.26.166', '1.43.79'])
        assert.ok(!has('boto3', v), `no boto3 ${v}`);
      assert.ok(releaseList('boto3')!.versions.length > 2000);
      assert.ok(has('google-cloud-storage', '1.27.0') && has('google-cloud-storage', '3.10.1'));
      assert.ok(!has('google-cloud-storage', '3.0.0rc1'));
      assert.ok(has('azure-storage-blob', '12.17.0') && has('azure-storage-blob', '12.29.0b1'));
    });
  });

  describe('specifiers over the real releases', () => {
    // [package, a, b, some release satisfies both]
    const cases: Array<[string, string, string, boolean]> = [
      ['django-storages', '==1.9.1', '>=1.14', false],
      ['Django', '>=4.2,<5', '>=4.2.16,<5.0.0', true],
      ['django-storages', '~=1.14.0', '>=1.14.6', true],
      ['Django', '<4.2.16', '>=4.2.16,<5', false],
      ['Django', '<=4.2.16', '>=4.2.16,<5', true],
      ['Django', '>4.2.16', '==4.2.16', false],
      ['azure-storage-blob', '<12.29', '==12.29.0b1', false], // `<V` excludes V's pre-releases
      ['azure-storage-blob', '<12.30', '==12.29.0b1', true], // a constraint naming a beta lets pip pick it
      ['azure-storage-blob', '>=12.29.0b1', '<12.29', false],
      ['Django', '>=5.0a1', '<5', false],
      ['Django', '==3.2.*', '==3.2.25', true],
      ['Django', '==3.2.*', '>=3.3', false],
      ['Django', '!=3.2.*', '>=3.2.20,<3.3', false],
      ['Django', '!=3.2.25', '==3.2.25', false],
      ['Django', '!=3.2.24', '==3.2.25', true],
      ['Django', '~=2.2', '>=3', false],
      ['Django', '~=2.2', '>=2.9', false], // there is no Django 2.9…
      ['google-cloud-storage', '~=2.2', '>=2.9', true], // …but there is a google-cloud-storage 2.9.0
      ['django-storages', '~=1.14', '==1.14.6', true],
      ['django-storages', '===1.14.6', '>=1.14', true],
      ['django-storages', '===not-a-version', '>=0', false],
      ['Django', '', '==3.2.25', true],
      ['Django', '>=5.2.2,<6.0.0', '>=4.2.16,<5.0.0', false],
      ['boto3', '>=1.30,<1.33', '>=1.26', false], // boto3 went from 1.29.7 to 1.33.0
      ['Django', '==3.2.26', '>=3.2', false], // no such release
    ];
    for (const [name, a, b, expected] of cases) {
      it(`${name}: ${a || '(any)'} ∩ ${b} is ${expected ? 'non-empty' : 'empty'}`, () => {
        assert.equal(specifiersIntersect(name, a, b), expected);
        assert.equal(specifiersIntersect(name, b, a), expected);
      });
    }

    it('within: every release the first admits, the second admits', () => {
      assert.equal(specifierWithin('Django', '==3.2.25', '==3.2.25'), true);
      assert.equal(specifierWithin('Django', '>=3.2', '==3.2.25'), false);
      assert.equal(specifierWithin('Django', '>=4.2.16,<5', '>=4.2.16,<5.0.0'), true);
      assert.equal(specifierWithin('Django', '~=4.2.16', '>=4.2.16,<5'), true);
      assert.equal(specifierWithin('django-storages', '', '>=1.14'), false);
      // Only real releases count: nothing between 3.2.25 and 4.0 exists.
      assert.equal(specifierWithin('Django', '>=3.2.25,<4', '==3.2.25'), true);
      // A beta the first admits is inside a range that reaches it.
      assert.equal(specifierWithin('azure-storage-blob', '==12.29.0b1', '>=12'), true);
    });

    it('names the newest release in common and the newest one outside', () => {
      const c = compareSpecifiers('Django', '>=3.2', '>=3.2.19,<3.3');
      assert.equal(c.both, '3.2.25');
      assert.equal(c.onlyFirst, '6.0.9');
      assert.equal(c.firstAdmitsAny, true);
      assert.equal(c.list?.name, 'django');
      const none = compareSpecifiers('Django', '>=6.1', '>=5.2.3,<6.0.0');
      assert.deepEqual([none.both, none.onlyFirst, none.firstAdmitsAny], [undefined, undefined, false]);
    });

    it('throws on an invalid specifier', () => {
      assert.throws(() => specifiersIntersect('Django', '>=', '>=1'), /Invalid PEP 440 specifier/);
      assert.throws(() => specifierWithin('Django', '>=1', 'garbage'), /Invalid PEP 440 specifier/);
      assert.equal(isSpecifier(''), true);
      assert.equal(isSpecifier('>=1.0+local'), false);
    });
  });

  describe('a package without a list: only the versions the specifiers name', () => {
    it('proves an intersection with a named version, and otherwise cannot tell', () => {
      assert.equal(specifiersIntersect(UNLISTED, '>=1.2', '<2'), true);
      assert.equal(specifiersIntersect(UNLISTED, '==1.0+local', '==1.0'), true); // ==V matches V's local versions
      assert.equal(specifiersIntersect(UNLISTED, '>=4.2.16', '==4.2.16.post1'), true);
      assert.equal(specifiersIntersect(UNLISTED, '>4.2.16', '==4.2.16.post1'), undefined); // `>V` skips V.postN
      assert.equal(specifiersIntersect(UNLISTED, '==1.0', '==2.0'), undefined);
      assert.equal(compareSpecifiers(UNLISTED, '>=1.2', '<2').list, undefined);
    });

    it('epochs order above every plain version', () => {
      assert.equal(specifiersIntersect(UNLISTED, '>=1!1.0', '>=1'), true);
      assert.equal(specifierWithin(UNLISTED, '>=1!1.0', '<9999'), false);
      // Over a real list: no Django release has an epoch.
      assert.equal(specifiersIntersect('Django', '>=1!1.0', '>=1'), false);
    });

    it('refutes "within" with a named version, and otherwise cannot tell', () => {
      assert.equal(specifierWithin(UNLISTED, '>=1.2', '<2'), false); // 2 is named
      assert.equal(specifierWithin(UNLISTED, '==1.5', '>=1,<2'), undefined);
    });
  });
});
