/**
 * The offline install: onnxruntime-node's CUDA download is denied through npm's own install-script approvals
 * (package.json allowScripts), not through a config key npm does not know (which npm warns about on every
 * command and will stop honouring), and the CPU binding is there.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = path.join(import.meta.dirname, '../..');

describe('install', () => {
  it('denies the download scripts in package.json, and npm warns about nothing in this project', () => {
    const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as {
      allowScripts: Record<string, boolean>;
    };
    expect(pkg.allowScripts['onnxruntime-node']).toBe(false);
    expect(pkg.allowScripts.electron).toBe(false);
    const r = spawnSync('npm', ['pkg', 'get', 'name'], { cwd: ROOT, encoding: 'utf8', timeout: 30_000 });
    expect(r.stdout.trim()).toBe('"starling"');
    expect(r.stderr).not.toMatch(/Unknown (project|env) config/);
    expect(r.stderr).not.toMatch(/warn/i);
  });

  it('has the CPU binding and not the CUDA libraries it would have downloaded', () => {
    const dir = path.join(
      path.dirname(createRequire(import.meta.url).resolve('onnxruntime-node/package.json')),
      'bin/napi-v6',
      process.platform,
      process.arch,
    );
    const files = fs.readdirSync(dir);
    expect(files).toContain('onnxruntime_binding.node');
    if (process.platform === 'linux') expect(files.some((f) => f.includes('providers_cuda'))).toBe(false);
  });
});
