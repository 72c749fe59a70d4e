// How the test run's one control plane reaches each test file: through environment variables set
// by test/with-control-plane.ts.
import type { ControlPlane } from './control-plane.ts';

export interface SharedControlPlane {
  readonly kubeconfigPath: string;
  readonly server: string;
  readonly caPath: string;
  readonly adminToken: string;
  readonly binDir: string;
  readonly userTokens: Readonly<Record<string, string>>;
}

export function exportControlPlane(controlPlane: ControlPlane): Record<string, string> {
  return {
    KUBECONFIG: controlPlane.kubeconfigPath,
    MAILFLEET_TEST_CONTROL_PLANE: JSON.stringify({
      kubeconfigPath: controlPlane.kubeconfigPath,
      server: controlPlane.server,
      caPath: controlPlane.caPath,
      adminToken: controlPlane.adminToken,
      binDir: controlPlane.binDir,
      userTokens: controlPlane.userTokens,
    } satisfies SharedControlPlane),
  };
}

/** The shared control plane; fails clearly when a test is run without test/with-control-plane.ts. */
export function sharedControlPlane(): SharedControlPlane {
  const json = process.env['MAILFLEET_TEST_CONTROL_PLANE'];
  if (!json) {
    throw new Error(
      'no control plane: run integration tests through `make test-integration` (node test/with-control-plane.ts -- node --test ...)',
    );
  }
  return JSON.parse(json) as SharedControlPlane;
}
