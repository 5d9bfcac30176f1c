import childProcess, { type ChildProcess } from 'node:child_process';
import { syncBuiltinESMExports } from 'node:module';
import { Server, Socket } from 'node:net';

/**
 * The unit project's promise is "in-process, in seconds": a unit file that binds a socket, dials
 * one or starts a process fails here, naming the project it belongs to, instead of quietly making
 * `npm run test:unit` slow.
 */
function refuse(what: string): never {
  throw new Error(
    `A unit test ${what}. Tests on real sockets or processes are integration tests: ` +
      'name the file x.test.ts instead of x.unit.test.ts (see README, Development).'
  );
}

Server.prototype.listen = function listen(): Server {
  refuse('binds no socket');
};

Socket.prototype.connect = function connect(): Socket {
  refuse('dials no socket');
};

const processStarters = ['spawn', 'spawnSync', 'exec', 'execSync', 'execFile', 'execFileSync', 'fork'] as const;
for (const name of processStarters) {
  Object.defineProperty(childProcess, name, {
    value: (): ChildProcess => refuse('starts no process'),
    writable: true,
    configurable: true,
  });
}
// Named imports (`import { spawn } from 'node:child_process'`) read the builtin's ESM view.
syncBuiltinESMExports();
