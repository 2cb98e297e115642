import { expect, it } from 'vitest';
import {
  AgentPath, PROTOCOL_HEADER, PROTOCOL_VERSION, ProtocolDecodeError, acceptRequestVersion, decodeAddRequest,
  protocolVersionOf,
} from '../src/index.ts';

// The README's example, kept runnable.
it('README example: the agent decodes a request before any work', () => {
  const headers = { [PROTOCOL_HEADER]: String(PROTOCOL_VERSION) };
  const version = acceptRequestVersion(protocolVersionOf(headers[PROTOCOL_HEADER]));
  expect(version).toBe(2);
  const body: unknown = JSON.parse('{"attachment": {"containerId": "abc"}, "timeoutMs": 1000}');
  let caught: unknown;
  try {
    decodeAddRequest(body, version);
  } catch (e) {
    caught = e;
  }
  expect(caught).toBeInstanceOf(ProtocolDecodeError);
  expect((caught as ProtocolDecodeError).path).toBe('attachment.netns');
  expect((caught as ProtocolDecodeError).message).toBe('attachment.netns: expected a non-empty string, got nothing');
  expect(AgentPath.add).toBe('/v1/cni/add');
});
