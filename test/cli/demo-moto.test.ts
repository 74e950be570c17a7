import { delimiter, join } from 'node:path';

import { describe, expect, it } from 'vitest';

import { motoInstallCommands, motoSetupFor, MOTO_REQUIREMENT } from '../../src/cli/demo/moto.js';
import { EmulatorStartError } from '../../src/emulator/index.js';

const ROOT = '/home/someone/riposte';
const PATH = '/usr/local/bin:/usr/bin';
const VENV = join(ROOT, '.riposte', 'moto-venv');

/** The decision is tested as a unit: installing moto needs the network, which tests must not. */
describe('motoSetupFor (how riposte demo gets its emulator)', () => {
  it('uses moto_server from the PATH when it is there, whatever else the machine has', () => {
    expect(motoSetupFor({ onPath: true, inVenv: true, python3: '/usr/bin/python3' }, ROOT, PATH)).toEqual({ kind: 'path' });
  });

  it('uses the project virtual environment an earlier demo installed, before the PATH', () => {
    expect(motoSetupFor({ onPath: false, inVenv: true, python3: '/usr/bin/python3' }, ROOT, PATH)).toEqual({ kind: 'venv', searchPath: `${join(VENV, 'bin')}${delimiter}${PATH}` });
  });

  it('with no moto_server but python3 present: installs moto 5 into .riposte/moto-venv, and says so with the commands', () => {
    const setup = motoSetupFor({ onPath: false, inVenv: false, python3: '/usr/bin/python3' }, ROOT, PATH);

    expect(setup).toEqual({
      kind: 'install',
      searchPath: `${join(VENV, 'bin')}${delimiter}${PATH}`,
      commands: [
        ['/usr/bin/python3', '-m', 'venv', VENV],
        [join(VENV, 'bin', 'python'), '-m', 'pip', 'install', '--disable-pip-version-check', '--quiet', MOTO_REQUIREMENT],
      ],
      message: expect.stringContaining('installing moto 5 into .riposte/moto-venv'),
    });
    expect(setup.kind === 'install' && setup.message).toContain(
      "python3 -m venv .riposte/moto-venv && .riposte/moto-venv/bin/python -m pip install --disable-pip-version-check --quiet 'moto[server]>=5,<6'",
    );
  });

  it('with neither moto_server nor python3: fails with EmulatorStartError giving the exact command to run', () => {
    const decide = (): unknown => motoSetupFor({ onPath: false, inVenv: false }, ROOT, PATH);

    expect(decide).toThrow(EmulatorStartError);
    expect(decide).toThrow("Install Python 3, then run: python3 -m pip install 'moto[server]>=5,<6'");
  });

  it('motoInstallCommands: a venv, then pip from inside it', () => {
    expect(motoInstallCommands('python3', '/tmp/v')).toEqual([
      ['python3', '-m', 'venv', '/tmp/v'],
      ['/tmp/v/bin/python', '-m', 'pip', 'install', '--disable-pip-version-check', '--quiet', 'moto[server]>=5,<6'],
    ]);
  });
});
