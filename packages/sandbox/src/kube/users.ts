import { MASTERS_GROUP } from './rbac.ts';
import type { UserInfo } from './rbac.ts';

/** The user of the server's own token; in system:masters, so RBAC never applies to it. */
export const ADMIN_USER = 'admin';

const SERVICE_ACCOUNT = /^system:serviceaccount:([^:]+):([^:]+)$/;

/** A user with the groups the apiserver's authenticators would give them (RBAC Group subjects match on these). */
export function userInfo(name: string): UserInfo {
  const groups: string[] = [];
  if (name === ADMIN_USER) groups.push(MASTERS_GROUP);
  const sa = SERVICE_ACCOUNT.exec(name);
  if (sa) groups.push('system:serviceaccounts', `system:serviceaccounts:${sa[1] ?? ''}`);
  groups.push('system:authenticated');
  return { name, groups };
}

/**
 * Bearer-token authentication: each known token is one user. With no admin token (authentication off)
 * anyone is admin unless they present a known user's token, so tests can still tell clients apart.
 */
export class Authenticator {
  readonly #adminToken: string | undefined;
  readonly #users: ReadonlyMap<string, UserInfo>;

  constructor(adminToken: string | undefined, users: Readonly<Record<string, string>>) {
    this.#adminToken = adminToken;
    this.#users = new Map(Object.entries(users).map(([token, name]) => [token, userInfo(name)]));
  }

  /** The user behind an Authorization header, or undefined when it proves no one (401). */
  authenticate(authorization: string | undefined): UserInfo | undefined {
    const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization ?? '');
    const token = match?.[1];
    const user = token === undefined ? undefined : this.#users.get(token);
    if (user) return user;
    if (this.#adminToken === undefined || token === this.#adminToken) return userInfo(ADMIN_USER);
    return undefined;
  }
}
