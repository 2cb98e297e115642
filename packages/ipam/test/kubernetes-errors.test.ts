import { ApiException } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { httpStatusOf, statusMessageOf, statusReasonOf } from '../src/stores/kubernetes/calls.ts';

/** The shape of a client that parses the Status itself (e.g. the hostnic runtime's lean client). */
class ParsedStatusError extends Error {
  readonly code: number;
  readonly body: object;

  constructor(code: number, body: object) {
    super(`HTTP ${code}`);
    this.code = code;
    this.body = body;
  }
}

describe('the HTTP status and Status of a failed request, whichever client threw it', () => {
  const status = { kind: 'Status', reason: 'AlreadyExists', message: 'ipamhandles "h" already exists', code: 409 };

  it('reads client-node ApiException (Status as JSON text)', () => {
    const error = new ApiException(409, 'conflict', JSON.stringify(status), {});
    expect([httpStatusOf(error), statusReasonOf(error), statusMessageOf(error)]).toEqual([409, 'AlreadyExists', status.message]);
  });

  it('reads an error whose body is the parsed Status', () => {
    const error = new ParsedStatusError(409, status);
    expect([httpStatusOf(error), statusReasonOf(error), statusMessageOf(error)]).toEqual([409, 'AlreadyExists', status.message]);
  });

  it('a network error has no status, and its own message', () => {
    const error = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:6443\n    at ...'), { code: 'ECONNREFUSED' });
    expect([httpStatusOf(error), statusReasonOf(error), statusMessageOf(error)]).toEqual([undefined, undefined, 'connect ECONNREFUSED 127.0.0.1:6443']);
    expect(httpStatusOf(new ParsedStatusError(42, {}))).toBeUndefined();
  });
});
