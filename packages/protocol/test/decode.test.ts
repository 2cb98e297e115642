import { describe, expect, it } from 'vitest';
import {
  ProtocolDecodeError,
  decodeAddRequest,
  decodeAddResponse,
  decodeAgentErrorBody,
  decodeCheckRequest,
  decodeDelRequest,
  decodeGcRequest,
  decodeGcResponse,
  decodeStatusResponse,
} from '../src/index.ts';
import type { AddRequest } from '../src/index.ts';
import { v1Samples } from '../src/testing/index.ts';

const current: AddRequest = { ...v1Samples.addRequest, attachment: { ...v1Samples.attachment, kubernetesPod: true } };

function failure(fn: () => unknown): ProtocolDecodeError {
  try {
    fn();
  } catch (e) {
    if (e instanceof ProtocolDecodeError) return e;
    throw e;
  }
  throw new Error('decoded without an error');
}

describe('request decoders', () => {
  it('decode a current ADD as it is', () => {
    expect(decodeAddRequest(JSON.parse(JSON.stringify(current)))).toEqual(current);
  });

  it('name the field path and what was expected', () => {
    const noConfig = failure(() => decodeAddRequest({ attachment: current.attachment, timeoutMs: 1000 }));
    expect(noConfig.path).toBe('config');
    expect(noConfig.message).toBe('config: expected an object, got nothing');

    const cases: [unknown, string, RegExp][] = [
      [null, 'body', /expected an object, got null/],
      [{ ...current, attachment: { ...current.attachment, containerId: '' } }, 'attachment.containerId', /a non-empty string, got the string ""/],
      [{ ...current, attachment: { ...current.attachment, kubernetesPod: 'yes' } }, 'attachment.kubernetesPod', /true or false/],
      [{ ...current, config: { ...current.config, mtu: 1e6 } }, 'config.mtu', /an integer from 68 to 65535, got number 1000000/],
      [{ ...current, config: { ...current.config, hairpin: 1 } }, 'config.hairpin', /true or false, got number 1/],
      [{ ...current, timeoutMs: -5 }, 'timeoutMs', /an integer >= 1/],
      [{ ...current, attachment: [] }, 'attachment', /an object, got a list/],
    ];
    for (const [body, path, message] of cases) {
      const e = failure(() => decodeAddRequest(body));
      expect(e.path).toBe(path);
      expect(e.message).toMatch(message);
    }
  });

  it('a version 2 request must say whether the workload is a pod; version 1 ones were pods', () => {
    const { kubernetesPod: _omit, ...v1Attachment } = current.attachment;
    expect(failure(() => decodeAddRequest({ ...current, attachment: v1Attachment })).path).toBe('attachment.kubernetesPod');
    expect(decodeAddRequest(v1Samples.addRequest, 1).attachment.kubernetesPod).toBe(true);
    const container = { ...current, attachment: { ...current.attachment, podNamespace: 'podman', podName: 'c0ffee', kubernetesPod: false } };
    expect(decodeAddRequest(container).attachment).toMatchObject({ podNamespace: 'podman', kubernetesPod: false });
  });

  it('DEL decodes without pod namespace, pod name or netns; ADD and CHECK do not', () => {
    const bare = { containerId: 'abc', ifName: 'eth0', kubernetesPod: false };
    const del = decodeDelRequest({ attachment: bare, config: current.config, timeoutMs: 1000 });
    expect(del.attachment).toEqual({ ...bare, netns: '', podNamespace: '', podName: '', infraContainerId: '' });
    expect(del.prevResult).toBeUndefined();
    expect(failure(() => decodeAddRequest({ ...current, attachment: { ...current.attachment, podName: '' } })).path).toBe('attachment.podName');
    expect(failure(() => decodeCheckRequest({ ...v1Samples.checkRequest, attachment: { ...v1Samples.attachment, netns: '' } }, 1)).path).toBe('attachment.netns');
  });

  it('checks results inside requests', () => {
    const bad = { ...v1Samples.checkRequest, prevResult: { ...v1Samples.checkRequest.prevResult, ips: [{ address: '172.16.3.7' }] } };
    expect(failure(() => decodeCheckRequest(bad, 1)).path).toBe('prevResult.ips[0].address');
    const badIndex = { ...v1Samples.delRequest, prevResult: { ...v1Samples.delRequest.prevResult, ips: [{ address: '172.16.3.7/32', interface: 5 }] } };
    expect(failure(() => decodeDelRequest(badIndex, 1)).message).toMatch(/prevResult\.ips\[0\]\.interface: expected an index into interfaces \(0 to 1\)/);
    const badDns = { ...v1Samples.checkRequest, prevResult: { ...v1Samples.checkRequest.prevResult, dns: { nameservers: ['1.1.1.1', 2] } } };
    expect(failure(() => decodeCheckRequest(badDns, 1)).path).toBe('prevResult.dns.nameservers[1]');
  });

  it('GC needs its list of valid attachments', () => {
    expect(decodeGcRequest(v1Samples.gcRequest)).toEqual(v1Samples.gcRequest);
    expect(failure(() => decodeGcRequest({ ...v1Samples.gcRequest, validAttachments: undefined })).path).toBe('validAttachments');
    expect(failure(() => decodeGcRequest({ ...v1Samples.gcRequest, validAttachments: [{ containerId: 'x' }] })).path).toBe('validAttachments[0].ifName');
  });
});

describe('answer decoders', () => {
  it('decode the answers of version 1 unchanged', () => {
    expect(decodeAddResponse(v1Samples.addResponse)).toEqual(v1Samples.addResponse);
    expect(decodeGcResponse(v1Samples.gcResponse)).toEqual(v1Samples.gcResponse);
    expect(decodeStatusResponse(v1Samples.statusNotReady)).toEqual(v1Samples.statusNotReady);
    expect(decodeAgentErrorBody(v1Samples.errorBody)).toEqual(v1Samples.errorBody);
  });

  it('refuse answers that are not the protocol', () => {
    expect(failure(() => decodeAddResponse({ result: { ...v1Samples.addResponse.result, ips: [] } })).message).toBe(
      'result.ips: expected at least one address, got a list',
    );
    expect(failure(() => decodeStatusResponse({ ready: false, code: 52 })).path).toBe('code');
    expect(failure(() => decodeAgentErrorBody({ code: 0, msg: 'x' })).path).toBe('code');
    expect(failure(() => decodeGcResponse({})).path).toBe('released');
  });
});
