/**
 * The install steps as the root README lists them: the shell block after the `<!-- install-steps -->` line,
 * read into files the operator writes (`cat >FILE <<EOF` ... `EOF`) and the kubectl commands that follow
 * them. The sandbox runs these commands as written, so the README and what is tested cannot drift apart.
 */

export const INSTALL_STEPS_MARKER = '<!-- install-steps -->';

/** A file the README has the operator write, with the content it shows (placeholders included). */
export interface ReadmeFile {
  readonly name: string;
  readonly content: string;
}

export interface ReadmeStep {
  /** The comment above the step, without its `# N.` numbering, e.g. `hostnic: CRDs, service accounts ...`. */
  readonly title: string;
  /** Files written before the command, in order. */
  readonly files: readonly ReadmeFile[];
  /** The command line as written, e.g. `kubectl apply -f hostnic-cm.yaml`. */
  readonly command: string;
  /** The arguments after `kubectl`. */
  readonly args: readonly string[];
}

/** The README's install block is missing or holds something the sandbox cannot run as written. */
export class ReadmeStepsError extends Error {
  override readonly name = 'ReadmeStepsError';
}

const HEREDOC = /^cat >\s*([A-Za-z0-9._-]+) <<(['"]?)EOF\2$/;
// No quoting, expansion, redirection or chaining: the arguments are the words of the line.
const SHELL_SPECIAL = /["'`$|&;<>(){}\\*?]/;

function commandArgs(line: string, where: string): string[] {
  if (SHELL_SPECIAL.test(line)) {
    throw new ReadmeStepsError(`${where}: "${line}" uses shell quoting, expansion or redirection; write the kubectl command as plain words`);
  }
  return line.split(/\s+/).slice(1);
}

/** @throws ReadmeStepsError naming the README line when the block is missing or not of that shape */
export function readmeInstallSteps(markdown: string, source = 'README.md'): ReadmeStep[] {
  const lines = markdown.split('\n');
  const markers = lines.flatMap((l, i) => (l.trim() === INSTALL_STEPS_MARKER ? [i] : []));
  if (markers.length !== 1) {
    throw new ReadmeStepsError(`${source}: needs exactly one "${INSTALL_STEPS_MARKER}" line before the install block, found ${markers.length}`);
  }
  const start = (markers[0] ?? 0) + 1;
  if (lines[start]?.trim() !== '```sh') throw new ReadmeStepsError(`${source}:${start + 1}: the line after "${INSTALL_STEPS_MARKER}" must open a \`\`\`sh block`);
  const steps: ReadmeStep[] = [];
  let title: string[] = [];
  let titleDone = false;
  let files: ReadmeFile[] = [];
  for (let i = start + 1; i < lines.length; i++) {
    const line = (lines[i] ?? '').trimEnd();
    const where = `${source}:${i + 1}`;
    if (line === '```') {
      if (files.length > 0) throw new ReadmeStepsError(`${where}: the block ends with ${files.map((f) => f.name).join(', ')} written but no command using them`);
      if (steps.length === 0) throw new ReadmeStepsError(`${where}: the install block holds no kubectl command`);
      return steps;
    }
    if (line === '') continue;
    if (line.startsWith('#')) {
      // A comment after a file starts the title anew; a comment's continuation lines are part of it.
      if (titleDone) {
        title = [];
        titleDone = false;
      }
      title.push(line.replace(/^#\s*/, ''));
      continue;
    }
    titleDone = true;
    const heredoc = HEREDOC.exec(line);
    if (heredoc !== null) {
      const end = lines.indexOf('EOF', i + 1);
      if (end === -1) throw new ReadmeStepsError(`${where}: the heredoc for ${heredoc[1] ?? '?'} has no closing EOF line`);
      files.push({ name: heredoc[1] ?? '', content: `${lines.slice(i + 1, end).join('\n')}\n` });
      i = end;
      continue;
    }
    if (!line.startsWith('kubectl ')) {
      throw new ReadmeStepsError(`${where}: "${line}": the install block may hold only comments, \`cat >FILE <<EOF\` files and kubectl commands`);
    }
    const heading = title.join(' ').replace(/\s+/g, ' ').replace(/^\d+\.\s*/, '');
    steps.push({ title: heading === '' ? line : heading, files, command: line, args: commandArgs(line, where) });
    files = [];
    title = [];
    titleDone = false;
  }
  throw new ReadmeStepsError(`${source}: the install block after "${INSTALL_STEPS_MARKER}" is not closed with \`\`\``);
}
