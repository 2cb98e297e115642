/** Base of the release tooling's errors: each message says what is wrong and what to do. */
export class ReleaseToolError extends Error {
  override readonly name: string = 'ReleaseToolError';
}

/** A changeset file that does not parse. */
export class ChangesetFormatError extends ReleaseToolError {
  override readonly name = 'ChangesetFormatError';
}

/** A git command failed, or the checkout lacks the history the check needs. */
export class GitError extends ReleaseToolError {
  override readonly name = 'GitError';
}

/** A child process (npm, node, tsc) failed; the message carries its output. */
export class CommandFailedError extends ReleaseToolError {
  override readonly name = 'CommandFailedError';
}
