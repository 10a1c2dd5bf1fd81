/**
 * lib/policies.ts partitionForRegion keeps its own small table of region prefixes: the SDK's public
 * `partition()` (@aws-sdk/core/client) costs about 0.1 s to load with the @smithy modules it pulls in, and
 * partitionForRegion runs on every AWS overlay (the policy documents' ARNs) and under --help, where no SDK is
 * loaded. So the table is checked here against the SDK's own data: every region the SDK lists, and a region
 * of each partition the SDK does not list yet (matched by the partition's regionRegex), must map to the
 * partition the SDK's `partition()` names.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { partition } from '@aws-sdk/core/client';
import { partitionForRegion } from '../../../lib/policies.js';

interface PartitionsInfo {
  partitions: Array<{ id: string; regionRegex: string; regions: Record<string, unknown> }>;
}

/** The SDK's partitions.json, as the installed @aws-sdk/core ships it (the data `partition()` reads). */
function sdkPartitions(): PartitionsInfo {
  const pkg = createRequire(import.meta.url).resolve('@aws-sdk/core/package.json');
  const file = path.join(path.dirname(pkg), 'dist-es/submodules/client/util-endpoints/lib/aws/partitions.js');
  const text = readFileSync(file, 'utf8');
  const json = text.slice(text.indexOf('{'), text.lastIndexOf('}') + 1);
  return JSON.parse(json) as PartitionsInfo;
}

describe('partitionForRegion agrees with the SDK’s partition data', function () {
  const info = sdkPartitions();

  it('the SDK data has the partitions the table knows', function () {
    assert.deepEqual(info.partitions.map((p) => p.id).sort(), [
      'aws',
      'aws-cn',
      'aws-eusc',
      'aws-iso',
      'aws-iso-b',
      'aws-iso-e',
      'aws-iso-f',
      'aws-us-gov',
    ]);
  });

  it('every region the SDK lists', function () {
    let n = 0;
    for (const p of info.partitions) {
      for (const region of Object.keys(p.regions)) {
        // Global pseudo-regions (aws-global, aws-cn-global…) are not bucket regions.
        if (region.endsWith('-global')) continue;
        assert.equal(partitionForRegion(region), partition(region).name, region);
        assert.equal(partition(region).name, p.id, `${region} is listed under ${p.id}`);
        n++;
      }
    }
    assert.ok(n > 30, `${n} regions checked`);
  });

  it('a region of each partition the SDK does not list yet (its regionRegex)', function () {
    for (const p of info.partitions) {
      const listed = Object.keys(p.regions).find((r) => new RegExp(p.regionRegex).test(r));
      assert.ok(listed, `${p.id} lists a region matching its regionRegex`);
      const future = listed.replace(/\d+$/, '97');
      assert.ok(!(future in p.regions) && new RegExp(p.regionRegex).test(future), future);
      assert.equal(partition(future).name, p.id, future);
      assert.equal(partitionForRegion(future), p.id, future);
    }
  });
});
