// The release workflow's packaging step: `helm package` with the version and appVersion of a tag
// gives a chart that carries the CRDs, leaves ci/ out, and deploys the images of that version.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { promisify } from 'node:util';
import { chartDir, helm, only, render } from './helm.ts';

const run = promisify(execFile);
const workDir = await mkdtemp(join(tmpdir(), 'mailfleet-package-'));
after(() => rm(workDir, { recursive: true, force: true }));

test('a chart packaged for a release tag carries its CRDs and deploys the images of that version', async () => {
  const version = '1.2.3-rc.1';
  await helm(['package', chartDir, '--version', version, '--app-version', version, '--destination', workDir]);
  const archive = join(workDir, `mailfleet-${version}.tgz`);
  const { stdout: listing } = await run('tar', ['-tzf', archive]);
  const files = listing.split('\n').filter((file) => file.length > 0);
  assert.ok(files.includes('mailfleet/crds/mailfleet.dev_smtprelays.yaml'), listing);
  assert.ok(files.includes('mailfleet/values.schema.json'), listing);
  assert.ok(!files.some((file) => file.startsWith('mailfleet/ci/')), 'ci/ stays out of the package');

  const deployment = only(await render({ chart: archive }), 'Deployment');
  const rendered = JSON.stringify(deployment);
  assert.ok(rendered.includes(`"ghcr.io/mailfleet/operator:${version}"`), 'operator image of the version');
  assert.ok(
    rendered.includes(`--relay-image=ghcr.io/mailfleet/relay:${version}`),
    'relay image of the version',
  );
});
