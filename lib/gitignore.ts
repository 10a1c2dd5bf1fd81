/**
 * "Would git commit this file?", asked of git itself: it knows negations, nested .gitignore files,
 * `.git/info/exclude` and `core.excludesFile`, which no pattern matcher of ours would get right.
 *
 * Two questions: is a file ignored as the project stands, and would it be ignored if some .gitignore files had
 * other contents (the rule the generator is about to add)? The second is answered without writing into the
 * project: the .gitignore files on the file's path are copied into a scratch repository, with the proposed
 * contents in place of the current ones, together with the repository's own exclude files, and git is asked
 * there. Whether a file is tracked (then no ignore rule helps) is a separate question (`isTracked`).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

function git(cwd: string, args: string[]): { status: number | null; stdout: string } {
  const r = spawnSync('git', args, {
    cwd,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'ignore'],
    env: { ...process.env, GIT_TERMINAL_PROMPT: '0' },
  });
  return { status: r.error ? null : r.status, stdout: r.stdout ?? '' };
}

/** Is git installed? Asked once per process. */
let gitAvailable: boolean | undefined;
export function hasGit(): boolean {
  gitAvailable ??= git(tmpdir(), ['--version']).status === 0;
  return gitAvailable;
}

/** The work tree's top folder and the git folder, when `root` is inside a git work tree. */
function repoOf(root: string): { top: string; gitDir: string } | undefined {
  const r = git(root, ['rev-parse', '--show-toplevel', '--absolute-git-dir']);
  if (r.status !== 0) return undefined;
  const [top, gitDir] = r.stdout.trim().split('\n');
  return top && gitDir ? { top, gitDir } : undefined;
}

/** Is `rel` (relative to root) in git's index? False outside a repository. */
export function isTracked(root: string, rel: string): boolean {
  return git(root, ['ls-files', '--error-unmatch', '--', rel]).status === 0;
}

/**
 * Would git ignore `rel` (relative to `root`)? `overrides` maps .gitignore paths relative to `root` to the
 * content they would have (null: absent). Undefined when git cannot be asked (not installed).
 * Tracked files are answered as if untracked: use `isTracked` for that.
 */
export function isIgnored(
  root: string,
  rel: string,
  overrides: Readonly<Record<string, string | null>> = {},
): boolean | undefined {
  if (!hasGit()) return undefined;
  const repo = repoOf(root);
  if (repo && Object.keys(overrides).length === 0) {
    const r = git(root, ['check-ignore', '-q', '--no-index', '--', rel]);
    if (r.status === 0 || r.status === 1) return r.status === 0;
  }
  return simulate(root, rel, overrides, repo);
}

/** Asks git in a scratch repository that holds only the ignore rules that apply to `rel`. */
function simulate(
  root: string,
  rel: string,
  overrides: Readonly<Record<string, string | null>>,
  repo: { top: string; gitDir: string } | undefined,
): boolean | undefined {
  const top = repo?.top ?? path.resolve(root);
  const target = path.relative(top, path.resolve(root, rel)).split(path.sep).join('/');
  if (target.startsWith('../')) return false;
  const scratch = mkdtempSync(path.join(tmpdir(), 'arches-storage-ignore-'));
  try {
    if (git(scratch, ['init', '-q']).status !== 0) return undefined;
    // Every folder from the top down to the file's own folder may hold a .gitignore that applies.
    const parts = target.split('/').slice(0, -1);
    for (let i = 0; i <= parts.length; i++) {
      const dir = parts.slice(0, i).join('/');
      const fromRoot = path.relative(path.resolve(root), path.join(top, dir)).split(path.sep).join('/');
      const key = fromRoot ? `${fromRoot}/.gitignore` : '.gitignore';
      const real = path.join(top, dir, '.gitignore');
      const content =
        key in overrides ? overrides[key] : existsSync(real) ? readFileSync(real, 'latin1') : null;
      if (content === null || content === undefined) continue;
      mkdirSync(path.join(scratch, dir), { recursive: true });
      writeFileSync(path.join(scratch, dir, '.gitignore'), content, 'latin1');
    }
    const args: string[] = [];
    if (repo) {
      const exclude = path.join(repo.gitDir, 'info', 'exclude');
      if (existsSync(exclude)) {
        mkdirSync(path.join(scratch, '.git', 'info'), { recursive: true });
        writeFileSync(path.join(scratch, '.git', 'info', 'exclude'), readFileSync(exclude));
      }
      // The repository's own excludes file (its config may set one of its own, or none: then git's default).
      const configured = git(top, ['config', '--path', '--get', 'core.excludesFile']).stdout.trim();
      if (configured) args.push('-c', `core.excludesFile=${configured}`);
    }
    const r = git(scratch, [...args, 'check-ignore', '-q', '--no-index', '--', target]);
    return r.status === 0 ? true : r.status === 1 ? false : undefined;
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}
