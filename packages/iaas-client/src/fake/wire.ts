/** From raw HTTP request to decoded parameters, and from results to response bodies. */
import { percentDecode } from '../encode.ts';
import { FakeApiError, badParam } from './errors.ts';

export interface ParsedRequest {
  /** The path exactly as received, which is what the client signed. */
  path: string;
  params: Record<string, string>;
  /** Set when the request cannot be an API call at all (1100); params hold whatever could be decoded. */
  error: FakeApiError | undefined;
}

/**
 * Decodes `a=1&b=2`. A malformed escape poisons the whole request; a repeated name keeps its last value
 * (real clients never repeat one).
 */
export function parseForm(text: string, plusIsSpace: boolean): { params: Record<string, string>; bad: string | undefined } {
  const params: Record<string, string> = {};
  let bad: string | undefined;
  for (const pair of text.split('&')) {
    if (pair === '') continue;
    const eq = pair.indexOf('=');
    const rawName = eq < 0 ? pair : pair.slice(0, eq);
    const rawValue = eq < 0 ? '' : pair.slice(eq + 1);
    const name = percentDecode(rawName, plusIsSpace);
    const value = percentDecode(rawValue, plusIsSpace);
    if (name === undefined || value === undefined) {
      bad ??= pair;
      continue;
    }
    params[name] = value;
  }
  return { params, bad };
}

const FORM = 'application/x-www-form-urlencoded';

export function parseApiRequest(
  method: string,
  rawUrl: string,
  contentType: string | undefined,
  body: string,
  plusIsSpace: boolean,
): ParsedRequest {
  const question = rawUrl.indexOf('?');
  const path = question < 0 ? rawUrl : rawUrl.slice(0, question);
  const query = question < 0 ? '' : rawUrl.slice(question + 1);
  if (method === 'GET') {
    const { params, bad } = parseForm(query, plusIsSpace);
    return { path, params, error: bad === undefined ? undefined : badParam(`malformed percent-encoding in [${bad}]`) };
  }
  if (method === 'POST') {
    const mediaType = (contentType ?? '').split(';')[0]?.trim().toLowerCase();
    if (mediaType !== FORM) {
      return { path, params: {}, error: badParam(`POST body must be ${FORM}, got [${contentType ?? ''}]`) };
    }
    const { params, bad } = parseForm(body, plusIsSpace);
    return { path, params, error: bad === undefined ? undefined : badParam(`malformed percent-encoding in [${bad}]`) };
  }
  return { path, params: {}, error: new FakeApiError(1101, `request method [${method}] is not supported, use GET or POST`) };
}

export function errorEnvelope(retCode: number, message: string): Record<string, unknown> {
  return { ret_code: retCode, message };
}

export function successEnvelope(action: string, fields: Record<string, unknown>): Record<string, unknown> {
  return { action: `${action}Response`, ret_code: 0, ...fields };
}

export function htmlErrorPage(status: number, reason: string): string {
  return `<html>\r\n<head><title>${status} ${reason}</title></head>\r\n<body>\r\n<center><h1>${status} ${reason}</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n`;
}
