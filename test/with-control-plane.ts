// Runs a command (the integration tests) with one real control plane shared by all of it:
// KUBECONFIG and MAILFLEET_TEST_* point at it, and it is torn down when the command ends.
import { spawn } from 'node:child_process';
import { startControlPlane } from './support/control-plane.ts';
import { exportControlPlane } from './support/shared-control-plane.ts';

const separator = process.argv.indexOf('--');
const command = separator === -1 ? [] : process.argv.slice(separator + 1);
const [program, ...args] = command;
if (program === undefined) {
  console.error('usage: node test/with-control-plane.ts -- <command> [args...]');
  process.exit(2);
}

const started = Date.now();
const controlPlane = await startControlPlane({
  controllerManager: true,
  extraUsers: ['mailfleet-unprivileged'],
});
console.error(`control plane ready in ${Date.now() - started} ms at ${controlPlane.server}`);

const child = spawn(program, args, {
  stdio: 'inherit',
  env: { ...process.env, ...exportControlPlane(controlPlane) },
});
const forward = (signal: NodeJS.Signals) => child.kill(signal);
process.on('SIGINT', forward);
process.on('SIGTERM', forward);
const code = await new Promise<number>((done) =>
  child.on('exit', (exitCode, signal) => {
    done(exitCode ?? (signal ? 1 : 0));
  }),
);
await controlPlane.stop();
process.exit(code);
