import { describe, expect, it } from 'vitest';
import {
  CniCode,
  PROTOCOL_VERSION,
  ProtocolDecodeError,
  ProtocolSkewError,
  acceptRequestVersion,
  decodeAddRequest,
  decodeCheckRequest,
  decodeDelRequest,
  encodeRequest,
  judgeAnswer,
  protocolVersionOf,
} from '../src/index.ts';
import type { AddRequest } from '../src/index.ts';
import { V1, V1_HEADERS, v1Samples } from '../src/testing/index.ts';

const request: AddRequest = { ...v1Samples.addRequest, attachment: { ...v1Samples.attachment, kubernetesPod: true } };

describe('protocol versions', () => {
  it('this release is version 2; a request without the header is version 1', () => {
    expect(PROTOCOL_VERSION).toBe(2);
    expect(protocolVersionOf(undefined)).toBe(1);
    expect(protocolVersionOf(V1_HEADERS['x-hostnic-protocol'])).toBe(V1);
    expect(protocolVersionOf(' 2 ')).toBe(2);
    for (const bad of ['', 'two', '0', '-1', '1.5', ['1', '2']]) {
      expect(() => protocolVersionOf(bad)).toThrow(ProtocolDecodeError);
    }
  });

  it('v1 plugin -> current agent: the agent serves it and reads the frozen v1 messages', () => {
    expect(acceptRequestVersion(V1)).toBe(V1);
    expect(decodeAddRequest(v1Samples.addRequest, V1)).toEqual(request);
    expect(decodeDelRequest(v1Samples.delRequest, V1).attachment.kubernetesPod).toBe(true);
    expect(decodeCheckRequest(v1Samples.checkRequest, V1).prevResult).toEqual(v1Samples.checkRequest.prevResult);
  });

  it('current plugin -> agent answering v1: the answer is understood', () => {
    expect(judgeAnswer(2, 1, false)).toEqual({ kind: 'accept', version: 1 });
    expect(judgeAnswer(2, 2, false)).toEqual({ kind: 'accept', version: 2 });
    expect(judgeAnswer(2, 1, true)).toEqual({ kind: 'resend', version: 1 });
    // In the shape a version 1 agent reads: the frozen v1 request.
    expect(encodeRequest(request, V1)).toEqual(v1Samples.addRequest);
    expect(encodeRequest(request)).toBe(request);
  });

  it('two versions apart: code 11 and "finish the rollout", on either side', () => {
    const byAgent = (() => {
      try {
        acceptRequestVersion(3, 1);
      } catch (e) {
        return e;
      }
      return undefined;
    })();
    expect(byAgent).toBeInstanceOf(ProtocolSkewError);
    expect((byAgent as ProtocolSkewError).message).toBe('plugin 3, agent 1: finish the rollout');
    expect((byAgent as ProtocolSkewError).code).toBe(CniCode.tryAgain);

    const byPlugin = judgeAnswer(3, 1, false, 3);
    expect(byPlugin.kind).toBe('skew');
    expect(byPlugin.kind === 'skew' && byPlugin.error.message).toBe('plugin 3, agent 1: finish the rollout');
    expect(judgeAnswer(2, 4, true).kind).toBe('skew');
  });

  it('a workload that is not a pod cannot be said in version 1', () => {
    const container = { ...request, attachment: { ...request.attachment, kubernetesPod: false } };
    expect(() => encodeRequest(container, V1)).toThrow('plugin 2, agent 1: finish the rollout');
  });
});
