import assert from 'node:assert/strict';
import { mkdir, mkdtemp, realpath, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { resolveSrc, SrcError, srcSegments } from './safe-path';

let outside: string;
let root: string;

before(async () => {
  outside = await realpath(await mkdtemp(path.join(tmpdir(), 'rtc-safe-path-')));
  root = path.join(outside, 'library');
  await mkdir(path.join(root, 'sub', 'deeper'), { recursive: true });
  await mkdir(path.join(root, '.hidden'));
  await writeFile(path.join(root, 'a.mp3'), 'x');
  await writeFile(path.join(root, 'sub', 'deeper', 'b.mp3'), 'x');
  await writeFile(path.join(root, '.hidden', 'c.mp3'), 'x');
  await writeFile(path.join(outside, 'secret.mp3'), 'x');
  await symlink(path.join(outside, 'secret.mp3'), path.join(root, 'escape.mp3'));
  await symlink(outside, path.join(root, 'escape-dir'));
  await symlink(path.join(root, 'a.mp3'), path.join(root, 'alias.mp3'));
  await symlink(path.join(root, '.hidden', 'c.mp3'), path.join(root, 'to-hidden.mp3'));
});

after(() => rm(outside, { recursive: true, force: true }));

const problem = async (src: string): Promise<string> => {
  try {
    await resolveSrc(root, src);
    return 'resolved';
  } catch (error) {
    assert.ok(error instanceof SrcError, String(error));
    return error.problem;
  }
};

test('resolveSrc finds files in the root and in subfolders, and symlinks that stay inside', async () => {
  assert.equal(await resolveSrc(root, 'a.mp3'), path.join(root, 'a.mp3'));
  assert.equal(await resolveSrc(root, 'sub/deeper/b.mp3'), path.join(root, 'sub', 'deeper', 'b.mp3'));
  assert.equal(await resolveSrc(root, 'alias.mp3'), path.join(root, 'a.mp3'));
});

test('hostile srcs are refused as BAD_SRC before touching the disk', async () => {
  const hostile = [
    '../secret.mp3',
    'sub/../../secret.mp3',
    '/etc/passwd',
    '//etc/passwd',
    './a.mp3',
    'sub/./deeper/b.mp3',
    '.hidden/c.mp3',
    'sub//deeper/b.mp3',
    'sub/',
    'a.mp3\u0000.txt',
    'a\nb.mp3',
    'a\u007f.mp3',
    'a\u0085.mp3',
    '..\\secret.mp3',
    'sub\\deeper\\b.mp3',
    '%2e%2e/secret.mp3',
    '..%2fsecret.mp3',
    '%252e%252e%252fsecret.mp3',
    '',
    'x'.repeat(2000),
    `${'y'.repeat(300)}.mp3`,
  ];
  for (const src of hostile) assert.equal(await problem(src), 'BAD_SRC', JSON.stringify(src.slice(0, 60)));
});

test('symlinks escaping the root or into dot-directories, and missing files, are TRACK_NOT_FOUND', async () => {
  assert.equal(await problem('escape.mp3'), 'TRACK_NOT_FOUND');
  assert.equal(await problem('escape-dir/secret.mp3'), 'TRACK_NOT_FOUND');
  assert.equal(await problem('to-hidden.mp3'), 'TRACK_NOT_FOUND');
  assert.equal(await problem('nope.mp3'), 'TRACK_NOT_FOUND');
  assert.equal(await problem('a.mp3/x.mp3'), 'TRACK_NOT_FOUND');
});

test('srcSegments splits a clean src', () => {
  assert.deepEqual(srcSegments('a/b c/d.mp3'), ['a', 'b c', 'd.mp3']);
});
