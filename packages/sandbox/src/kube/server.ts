import { createServer as createHttpServer } from 'node:http';
import type { IncomingMessage, Server as HttpServer, ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { Server as HttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { TLSSocket } from 'node:tls';
import { crdManifest, wireCrd } from './crds.ts';
import type { CrdDefinition } from './crds.ts';
import { coreVersions, group, groupList, resourceList, versionInfo } from './discovery.ts';
import { Faults, resourceMatches } from './faults.ts';
import type { RequestInfo, Verb } from './faults.ts';
import { isJsonMediaType, isTrue, mediaType, optionalInt, readBody, sendJson, sendText } from './http-io.ts';
import { IdSource } from './ids.ts';
import { getObject, getString, isJsonObject, parseJson, toJson } from './json.ts';
import type { JsonObject, JsonValue } from './json.ts';
import { kubeConfigOptions, kubeconfigYaml } from './kubeconfig.ts';
import type { KubeConfigOptions, KubeconfigSettings } from './kubeconfig.ts';
import { OPENAPI_V2_PROTOBUF, openApiDocument, openApiIndex, openApiV2 } from './openapi.ts';
import { Operations } from './operations.ts';
import { PROTOBUF_MEDIA_TYPE, ProtobufError, decodeKubernetesProtobuf } from './protobuf.ts';
import type { DeleteOptions, ListQuery, Target } from './operations.ts';
import { RBAC_KINDS, authorize, forbiddenMessage, missingRule } from './rbac.ts';
import type { RbacDenial, RbacPolicy, ResourceAttributes, UserInfo } from './rbac.ts';
import { RequestLog } from './request-log.ts';
import type { RequestLogEntry, RequestLogFilter } from './request-log.ts';
import { CRD_GROUP, RBAC_GROUP, ResourceRegistry, builtinResources, resourceId } from './resources.ts';
import { parsePath, verbOf } from './routes.ts';
import type { ResourceRoute, Route } from './routes.ts';
import { selects } from './selectors.ts';
import {
  ApiError, badRequest, errorForCode, forbiddenRequest, invalid, methodNotAllowed, pathNotFound, statusBody, unsupportedMediaType,
} from './status.ts';
import { Store } from './store.ts';
import { toKubeObject } from './types.ts';
import type { KubeObject } from './types.ts';
import { Authenticator } from './users.ts';
import { validateCrd, validateObjectMeta } from './validation.ts';
import { columnsFor, tableVersionAccepted, toTable } from './tables.ts';
import { generateClientCa, issueClientCertificate, servingCredentials } from './tls.ts';
import type { KeyPair, ServingCredentials } from './tls.ts';
import { WatchHub } from './watch.ts';
import type { WatchInfo } from './watch.ts';

export interface FakeKubeApiServerOptions {
  /** Default 127.0.0.1. */
  host?: string;
  /** Default 0: an ephemeral port. */
  port?: number;
  /**
   * The CA and serving certificate of the HTTPS listener. Default: made with the openssl CLI on first use
   * and shared by the servers of this process for that host (a fresh CA per server would cost every test
   * a few hundred milliseconds of openssl).
   */
  tls?: ServingCredentials;
  /**
   * Serve plain HTTP instead (kubeconfigs then skip TLS verification; kubectl will not send its token).
   * Only for request-heavy tests: client-node builds a new connection, and so does a full TLS handshake,
   * for every request, which made each request about three times as expensive on a busy machine.
   */
  plainHttp?: boolean;
  /**
   * Also authenticate clients by certificate, as kube-apiserver's `--client-ca-file` does: a certificate
   * from `clientCertificate(user, groups)` is that user (CN) in those groups (O). Default false.
   */
  clientCertificates?: boolean;
  /** Seed for uids and generateName suffixes. Default `hostnic`. */
  seed?: string | number;
  /**
   * Bearer token of the user `admin`, who may do anything (RBAC does not apply to it); `null` turns
   * authentication off: requests without a known user's token are then admin's. Default `hostnic-sandbox-token`.
   */
  token?: string | null;
  /**
   * Further bearer tokens, each mapped to a user name, e.g. `system:serviceaccount:kube-system:hostnic-node`
   * (service-account names also get the groups RBAC Group subjects match). Use `kubeconfig({ token })`.
   */
  users?: Readonly<Record<string, string>>;
  /**
   * RBAC objects (rbac.authorization.k8s.io/v1 Role, ClusterRole, RoleBinding, ClusterRoleBinding; other
   * kinds are ignored): when given, RBAC is enforced from the start, as after `enableRbac(rbac)`.
   */
  rbac?: readonly KubeObject[];
  /** Events kept per resource for watch resumption and paging; older resourceVersions get 410. Default 1000. */
  watchWindow?: number;
  /** Interval of BOOKMARK events on watches that allow them. Default 10 s (client-node gives up after 30 s of silence). */
  bookmarkIntervalMs?: number;
  /** Namespaces that exist from the start. Default default, kube-system, kube-public, kube-node-lease. */
  namespaces?: readonly string[];
  /** Pods bound to a node wait for a grace-0 DELETE (their kubelet) instead of going at once. Default false. */
  podGracefulDeletion?: boolean;
  /** Delete dependents through ownerReferences when their owner goes. Default true. */
  garbageCollection?: boolean;
  /** Source of creation and deletion timestamps. */
  clock?: () => Date;
  /** Entries kept in the request log. Default 10000. */
  maxRequestLog?: number;
  /** Largest accepted request body. Default 3 MiB, as the apiserver. */
  maxBodyBytes?: number;
}

export interface ListOptions {
  namespace?: string;
  labelSelector?: string;
  fieldSelector?: string;
}

const DEFAULT_NAMESPACES = ['default', 'kube-system', 'kube-public', 'kube-node-lease'];

function dryRunOf(query: URLSearchParams, body: JsonValue | undefined): boolean {
  const values = [...query.getAll('dryRun')];
  if (isJsonObject(body) && Array.isArray(body['dryRun'])) {
    for (const v of body['dryRun']) if (typeof v === 'string') values.push(v);
  }
  for (const value of values) if (value !== 'All') throw badRequest(`Invalid dry run value: ${JSON.stringify(value)}; supported values: "All"`);
  return values.length > 0;
}

function listQuery(query: URLSearchParams, extraFieldSelector?: string): ListQuery {
  const fieldSelector = [query.get('fieldSelector') ?? '', extraFieldSelector ?? ''].filter((s) => s !== '').join(',');
  return {
    labelSelector: query.get('labelSelector') ?? undefined,
    fieldSelector: fieldSelector === '' ? undefined : fieldSelector,
    limit: optionalInt(query.get('limit')),
    continue: query.get('continue') ?? undefined,
    resourceVersion: query.get('resourceVersion') ?? undefined,
    resourceVersionMatch: query.get('resourceVersionMatch') ?? undefined,
  };
}

/** DeleteOptions may come in the body, in the query, or both (the body wins). */
function deleteOptions(query: URLSearchParams, body: JsonValue | undefined): DeleteOptions {
  const b = isJsonObject(body) ? body : {};
  const preconditions = getObject(b, 'preconditions');
  const grace = b['gracePeriodSeconds'];
  const orphan = b['orphanDependents'] ?? (query.get('orphanDependents') === null ? undefined : isTrue(query.get('orphanDependents')));
  const policy = getString(b, 'propagationPolicy') ?? query.get('propagationPolicy') ?? (orphan === true ? 'Orphan' : undefined);
  return {
    uid: getString(preconditions, 'uid'),
    resourceVersion: getString(preconditions, 'resourceVersion'),
    propagationPolicy: policy,
    gracePeriodSeconds: typeof grace === 'number' ? grace : optionalInt(query.get('gracePeriodSeconds')),
  };
}

/**
 * An in-memory Kubernetes API server on loopback for tests: real HTTPS, real JSON, the apiserver's
 * resourceVersion, conflict, status, finalizer and watch semantics, so that unmodified
 * @kubernetes/client-node code runs against it.
 */
export class FakeKubeApiServer {
  /** Scripted failures and latency. */
  readonly faults = new Faults();
  readonly #http: HttpServer | HttpsServer;
  readonly #store: Store;
  readonly #registry = new ResourceRegistry();
  readonly #ops: Operations;
  readonly #watches: WatchHub;
  readonly #log: RequestLog;
  readonly #token: string | undefined;
  readonly #auth: Authenticator;
  #rbac = false;
  readonly #denials: RbacDenial[] = [];
  readonly #maxDenials: number;
  readonly #maxBody: number;
  readonly #clock: () => Date;
  #url = '';
  #ca = '';
  readonly #credentials: ServingCredentials | undefined;
  readonly #clientCertificates: boolean;
  #clientCa: KeyPair | undefined;
  #closing: Promise<void> | undefined;

  constructor(options: FakeKubeApiServerOptions = {}) {
    this.#store = new Store(options.watchWindow ?? 1000);
    this.#clock = options.clock ?? (() => new Date());
    for (const def of builtinResources()) this.#registry.add(def);
    this.#ops = new Operations(this.#store, this.#registry, {
      ids: new IdSource(String(options.seed ?? 'hostnic')),
      clock: this.#clock,
      podGracefulDeletion: options.podGracefulDeletion ?? false,
      garbageCollection: options.garbageCollection ?? true,
      onResourceRemoved: (def) => this.#watches.endAll((info) => info.group === def.group && info.resource === def.plural),
    });
    this.#watches = new WatchHub(this.#store, options.bookmarkIntervalMs ?? 10_000);
    this.#log = new RequestLog(options.maxRequestLog ?? 10_000);
    this.#token = options.token === null ? undefined : (options.token ?? 'hostnic-sandbox-token');
    this.#auth = new Authenticator(this.#token, options.users ?? {});
    this.#maxDenials = options.maxRequestLog ?? 10_000;
    this.#maxBody = options.maxBodyBytes ?? 3 * 1024 * 1024;
    const namespaces = this.#registry.resolve('namespaces');
    for (const name of options.namespaces ?? DEFAULT_NAMESPACES) {
      this.#ops.putDirect(namespaces, { metadata: { name }, status: { phase: 'Active' } });
    }
    if (options.rbac) this.enableRbac(options.rbac);
    this.#credentials = options.tls;
    const handler = (req: IncomingMessage, res: ServerResponse): void => {
      void this.#handle(req, res);
    };
    // The certificate is set in listen(), once it exists: generating it is asynchronous.
    this.#clientCertificates = options.clientCertificates === true && options.plainHttp !== true;
    // A client without a certificate still connects (token or anonymous), as with the real apiserver.
    const tlsOptions = this.#clientCertificates ? { requestCert: true, rejectUnauthorized: false } : {};
    this.#http = options.plainHttp === true ? createHttpServer(handler) : createHttpsServer(tlsOptions, handler);
  }

  /** Binds the port; `startFakeKubeApiServer` does this for you. */
  async listen(host = '127.0.0.1', port = 0): Promise<void> {
    if ('setSecureContext' in this.#http) {
      const credentials = this.#credentials ?? await servingCredentials(host);
      if (this.#clientCertificates) this.#clientCa = await generateClientCa();
      this.#http.setSecureContext({ key: credentials.key, cert: credentials.cert, ...(this.#clientCa === undefined ? {} : { ca: this.#clientCa.cert }) });
      this.#ca = credentials.ca;
    }
    await new Promise<void>((resolve, reject) => {
      this.#http.once('error', reject);
      this.#http.listen(port, host, () => {
        this.#http.off('error', reject);
        resolve();
      });
    });
    const address = this.#http.address() as AddressInfo;
    const hostPart = address.family === 'IPv6' ? `[${address.address}]` : address.address;
    this.#url = `${this.#ca === '' ? 'http' : 'https'}://${hostPart}:${address.port}`;
  }

  /** `https://127.0.0.1:<port>` (`http://` with plainHttp) */
  get url(): string {
    return this.#url;
  }

  /** PEM of the CA that signed the serving certificate: what a client outside the kubeconfig must trust ('' with plainHttp). */
  get ca(): string {
    return this.#ca;
  }

  /**
   * Kubeconfig text for KubeConfig.loadFromString or kubectl: the CA inline and a bearer token; `{ token }`
   * picks one of the `users`.
   */
  kubeconfig(settings?: KubeconfigSettings): string {
    return kubeconfigYaml(this.#cluster(), this.#token, settings);
  }

  /** The same as an object for KubeConfig.loadFromOptions. */
  kubeConfig(settings?: KubeconfigSettings): KubeConfigOptions {
    return kubeConfigOptions(this.#cluster(), this.#token, settings);
  }

  /**
   * A client certificate and key (PEM) that authenticate as `user` in `groups`; for `kubeconfig({
   * clientCertificate })`. Needs the `clientCertificates` option.
   */
  clientCertificate(user: string, groups: readonly string[] = []): Promise<KeyPair> {
    if (this.#clientCa === undefined) throw new Error('client certificates are off: start the fake kube-apiserver with { clientCertificates: true }');
    return issueClientCertificate(this.#clientCa, user, groups);
  }

  /** The user of a verified client certificate, as the apiserver's x509 authenticator names it. */
  #certificateUser(req: IncomingMessage): UserInfo | undefined {
    const socket = req.socket;
    if (this.#clientCa === undefined || !(socket instanceof TLSSocket) || !socket.authorized) return undefined;
    const subject = socket.getPeerCertificate().subject as Partial<Record<string, string | string[]>> | undefined;
    const name = subject?.['CN'];
    if (typeof name !== 'string' || name === '') return undefined;
    const orgs = subject?.['O'];
    const groups = orgs === undefined ? [] : Array.isArray(orgs) ? orgs : [orgs];
    return { name, groups: [...groups, 'system:authenticated'] };
  }

  #cluster(): { server: string; ca: string } {
    if (this.#url === '') throw new Error('the fake kube-apiserver is not listening yet: await listen() (or use startFakeKubeApiServer) first');
    return { server: this.#url, ca: this.#ca };
  }

  /** Creates (or replaces) the CustomResourceDefinition and starts serving its kind. */
  registerCrd(def: CrdDefinition): KubeObject {
    const manifest = crdManifest(def);
    const causes = validateCrd(manifest);
    if (causes.length > 0) throw new Error(`invalid CRD: ${causes.map((c) => `${c.field ?? ''}: ${c.message}`).join('; ')}`);
    return toKubeObject(this.#ops.putDirect(this.#registry.resolve(`customresourcedefinitions.${CRD_GROUP}`), manifest));
  }

  /**
   * Creates or replaces a CustomResourceDefinition from its apiextensions.k8s.io/v1 manifest, as
   * `kubectl apply` would, and starts serving its kind. A structural openAPIV3Schema is then enforced on
   * writes of its objects: unknown fields pruned, defaults applied, invalid objects refused with 422.
   * Takes the manifest as parsed YAML or as a client-node model (loadAllYaml). Throws a 422 ApiError when the
   * CRD itself is invalid.
   */
  applyCrdManifest(manifest: KubeObject): KubeObject {
    const json = toJson(manifest);
    if (!isJsonObject(json) || getString(json, 'apiVersion') !== `${CRD_GROUP}/v1` || getString(json, 'kind') !== 'CustomResourceDefinition') {
      throw new TypeError(`an ${CRD_GROUP}/v1 CustomResourceDefinition expected`);
    }
    const crd = wireCrd(json);
    // As on create, status is the server's: a manifest's placeholder status would leave the CRD unestablished.
    delete crd['status'];
    const def = this.#registry.resolve(`customresourcedefinitions.${CRD_GROUP}`);
    const causes = [...validateObjectMeta(crd, 'subdomain'), ...validateCrd(crd)];
    if (causes.length > 0) throw invalid(def, getString(getObject(crd, 'metadata') ?? {}, 'name') ?? '', causes);
    return toKubeObject(this.#ops.putDirect(def, crd));
  }

  /**
   * Enforces RBAC from now on, for every user but admin, and stores the given RBAC objects (kinds other
   * than Role, ClusterRole, RoleBinding and ClusterRoleBinding are skipped), replacing same-named ones.
   * Call again, or write RBAC objects through the API or `put`, to grant more: every request is judged
   * against what is stored at that moment. Discovery and health stay open to any authenticated user.
   */
  enableRbac(objects: readonly KubeObject[] = []): void {
    for (const obj of objects) {
      const plural = typeof obj.kind === 'string' ? RBAC_KINDS[obj.kind] : undefined;
      if (plural === undefined || obj.apiVersion !== `${RBAC_GROUP}/v1`) continue;
      this.put(`${plural}.${RBAC_GROUP}`, obj);
    }
    this.#rbac = true;
  }

  /** Requests RBAC refused since the start (or the last clear), oldest first, with the rule each lacked. */
  rbacDenials(): RbacDenial[] {
    return this.#denials.map((d) => ({ ...d }));
  }

  clearRbacDenials(): void {
    this.#denials.length = 0;
  }

  /**
   * The stored object, without HTTP. `resource` is a plural (`pods`), `plural.group`, a kind or a singular;
   * `namespace` defaults to `default` for namespaced kinds.
   */
  get(resource: string, name: string, namespace?: string): KubeObject | undefined {
    const def = this.#registry.resolve(resource);
    const key = def.scope === 'Namespaced' ? `${namespace ?? 'default'}/${name}` : name;
    const obj = this.#store.get(resourceId(def), key);
    return obj ? toKubeObject(obj) : undefined;
  }

  list(resource: string, options: ListOptions = {}): KubeObject[] {
    const def = this.#registry.resolve(resource);
    const selection = this.#ops.selection({ def, version: def.storageVersion, namespace: options.namespace, name: undefined }, options);
    return this.#store.entries(resourceId(def)).filter(([, obj]) => selects(selection, obj)).map(([, obj]) => toKubeObject(obj));
  }

  /**
   * Stores the object as given, bypassing validation and preconditions (status included), under a new
   * resourceVersion; watchers see ADDED or MODIFIED. uid and creationTimestamp survive a replace.
   * Namespaced objects without metadata.namespace go to `default`.
   */
  put(resource: string, obj: KubeObject): KubeObject {
    const json = toJson(obj);
    if (!isJsonObject(json)) throw new TypeError('object expected');
    return toKubeObject(this.#ops.putDirect(this.#registry.resolve(resource), json));
  }

  /** Removes the object at once, finalizers notwithstanding; watchers see DELETED. */
  delete(resource: string, name: string, namespace?: string): boolean {
    const def = this.#registry.resolve(resource);
    return this.#ops.removeDirect(def, def.scope === 'Namespaced' ? (namespace ?? 'default') : undefined, name);
  }

  /** The current global resourceVersion. */
  resourceVersion(): string {
    return String(this.#store.currentRv());
  }

  /** Forgets the event history of one resource or all: any watch or continue token from before gets 410. */
  compact(resource?: string): void {
    this.#store.compact(resource === undefined ? undefined : resourceId(this.#registry.resolve(resource)));
  }

  /** Ends matching watch streams the way the apiserver does at its timeout; returns how many. */
  endWatches(match?: { resource?: string; namespace?: string } | ((info: WatchInfo) => boolean)): number {
    if (match === undefined || typeof match === 'function') return this.#watches.endAll(match);
    return this.#watches.endAll((info) =>
      (match.resource === undefined || resourceMatches(match.resource, { ...info, subresource: undefined })) &&
      (match.namespace === undefined || match.namespace === info.namespace));
  }

  /** Number of open watch streams (handy to wait until an informer is connected). */
  get activeWatches(): number {
    return this.#watches.size;
  }

  requestLog(filter?: RequestLogFilter): RequestLogEntry[] {
    return this.#log.entries(filter);
  }

  clearRequestLog(): void {
    this.#log.clear();
  }

  /** Ends every watch cleanly, then closes the listener and every connection. Idempotent. */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      await this.#watches.drain(500);
      const closed = new Promise<void>((resolve) => this.#http.close(() => resolve()));
      this.#http.closeAllConnections();
      await closed;
    })();
    return this.#closing;
  }

  #policy(): RbacPolicy {
    const objects = (plural: string): JsonObject[] => this.#store.entries(`${plural}.${RBAC_GROUP}`).map(([, obj]) => obj);
    return {
      roles: objects('roles'),
      clusterRoles: objects('clusterroles'),
      roleBindings: objects('rolebindings'),
      clusterRoleBindings: objects('clusterrolebindings'),
    };
  }

  /** The RBAC check the apiserver makes after authentication, before anything else looks at the request. */
  #authorize(user: UserInfo, route: ResourceRoute, verb: Verb, query: URLSearchParams): void {
    if (!this.#rbac) return;
    const { def, subresource } = route;
    let { namespace, name } = route;
    // A namespace is addressed inside itself: a RoleBinding there may grant reading it.
    if (def.group === '' && def.plural === 'namespaces' && name !== undefined) namespace = name;
    // List and watch narrowed to one name by field selector count as requests for that name.
    if ((verb === 'list' || verb === 'watch') && name === undefined) name = exactName(query.get('fieldSelector'));
    const attrs: ResourceAttributes = { user, verb, apiGroup: def.group, resource: def.plural, subresource, namespace, name };
    const decision = authorize(this.#policy(), attrs);
    if (decision.allowed) return;
    const message = forbiddenMessage(attrs, decision.reason);
    this.#denials.push({
      user: user.name, verb, apiGroup: def.group, resource: def.plural, subresource, namespace, name, message, missingRule: missingRule(attrs),
    });
    // Bounded like the request log, so a test that runs long against a denial does not grow without end.
    if (this.#denials.length > this.#maxDenials) this.#denials.shift();
    throw forbiddenRequest(def, name, message);
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    // A client that hangs up mid-response is its own problem, not a crash of the test run.
    res.on('error', () => undefined);
    const url = new URL(req.url ?? '/', 'http://fake.invalid');
    const method = (req.method ?? 'GET').toUpperCase();
    let route: Route | undefined;
    let verb: Verb | undefined;
    let early: unknown;
    try {
      route = parsePath(url.pathname, this.#registry);
      if (route.kind === 'resource') verb = verbOf(method, route, isTrue(url.searchParams.get('watch')));
    } catch (error) {
      early = error;
    }
    const rr = route?.kind === 'resource' ? route : undefined;
    const user = this.#certificateUser(req) ?? this.#auth.authenticate(req.headers.authorization);
    const done = this.#log.begin({
      method, user: user?.name, path: url.pathname, query: url.search.slice(1), verb,
      group: rr?.def.group, resource: rr?.def.plural, subresource: rr?.subresource, namespace: rr?.namespace, name: rr?.name,
    });
    try {
      // The apiserver lets anyone probe health and version.
      if (!user && !/^\/(healthz|livez|readyz|version)(\/|$)/.test(url.pathname)) throw new ApiError(401, 'Unauthorized', 'Unauthorized');
      if (early !== undefined) throw early;
      if (!route) throw pathNotFound();
      if (route.kind === 'resource') {
        if (!verb) throw methodNotAllowed();
        if (!user) throw new ApiError(401, 'Unauthorized', 'Unauthorized');
        this.#authorize(user, route, verb, url.searchParams);
        await this.#serveResource(req, res, route, verb, url.searchParams, user.name, done);
        return;
      }
      if (method !== 'GET') throw methodNotAllowed();
      if (route.kind === 'health') {
        done(200);
        sendText(res, 200, 'ok');
        return;
      }
      if (route.kind === 'openapi-v2') {
        const doc = openApiV2((req.headers.accept ?? '').includes(OPENAPI_V2_PROTOBUF));
        done(200);
        res.writeHead(200, { 'Content-Type': doc.contentType, 'Content-Length': doc.body.length });
        res.end(doc.body);
        return;
      }
      const body = this.#discovery(route, req);
      if (!body) throw pathNotFound();
      done(200);
      sendJson(res, 200, body);
    } catch (error) {
      const apiError = error instanceof ApiError
        ? error
        : new ApiError(500, 'InternalError', `Internal error occurred: ${error instanceof Error ? error.message : String(error)}`);
      done(apiError.code);
      if (!res.headersSent && !res.destroyed) sendJson(res, apiError.code, statusBody(apiError));
      else res.end();
    }
  }

  #discovery(route: Route, req: IncomingMessage): JsonObject | undefined {
    switch (route.kind) {
      case 'version': return versionInfo();
      case 'core-versions': return coreVersions(req.headers.host ?? this.#url.replace(/^https?:\/\//, ''));
      case 'group-list': return groupList(this.#registry);
      case 'group': return group(this.#registry, route.group);
      case 'resource-list': return resourceList(this.#registry, route.group, route.version);
      case 'openapi-index': return openApiIndex(this.#registry);
      case 'openapi': return openApiDocument(this.#registry, route.group, route.version);
      default: return undefined;
    }
  }

  async #serveResource(
    req: IncomingMessage, res: ServerResponse, route: ResourceRoute, verb: Verb, query: URLSearchParams, user: string,
    done: (status: number) => void,
  ): Promise<void> {
    const raw = await readBody(req, this.#maxBody);
    const text = raw.toString('utf8');
    const contentType = req.headers['content-type'];
    let body: JsonValue | undefined;
    if (verb === 'create' || verb === 'update') {
      body = this.#decodeObject(raw, contentType);
    } else if (verb === 'delete' || verb === 'deletecollection') {
      body = text.trim() === '' ? undefined : this.#decode(text);
    } else if (verb === 'patch') {
      try {
        body = parseJson(text);
      } catch {
        body = undefined;
      }
    }
    const { def, version, namespace, name, subresource } = route;
    const info: RequestInfo = {
      method: req.method ?? 'GET', path: req.url ?? '', user, verb, group: def.group, version, resource: def.plural,
      subresource, namespace, name, body,
    };
    const fault = await this.faults.apply(info);
    if (fault) throw fault;
    if (this.#closing) throw errorForCode(503, 'the server is shutting down');
    const t: Target = { def, version, namespace, name };
    const reply = (code: number, out: JsonObject): void => {
      done(code);
      sendJson(res, code, out);
    };
    const tableVersion = subresource === undefined ? tableVersionAccepted(req.headers.accept) : undefined;
    const render = tableVersion === undefined ? undefined : (obj: JsonObject): JsonObject => toTable(obj, {
      columns: columnsFor(def, version, def.custom ? this.#store.get(`customresourcedefinitions.${CRD_GROUP}`, `${def.plural}.${def.group}`) : undefined),
      includeObject: query.get('includeObject') ?? 'PartialObjectMetadata',
      apiVersion: tableVersion,
      now: this.#clock(),
    });
    const readReply = (out: JsonObject): void => reply(200, render ? render(out) : out);
    switch (verb) {
      case 'get':
        return readReply(this.#ops.get(t));
      case 'list':
        return readReply(this.#ops.list(t, listQuery(query)));
      case 'watch': {
        const q = listQuery(query, name === undefined ? undefined : `metadata.name=${name}`);
        const timeout = optionalInt(query.get('timeoutSeconds'));
        const sendInitial = query.get('sendInitialEvents');
        this.#watches.start(res, {
          def, version,
          selection: this.#ops.selection(t, q),
          resourceVersion: q.resourceVersion,
          allowBookmarks: isTrue(query.get('allowWatchBookmarks')),
          timeoutSeconds: timeout,
          sendInitialEvents: sendInitial === null ? undefined : isTrue(sendInitial),
          render,
        }, { group: def.group, resource: def.plural, namespace }, () => done(200));
        return;
      }
      case 'create': {
        const out = this.#ops.create(t, body ?? null, dryRunOf(query, body));
        return reply(out.code, out.body);
      }
      case 'update': {
        const out = this.#ops.replace(t, body ?? null, dryRunOf(query, body), subresource);
        return reply(out.code, out.body);
      }
      case 'patch': {
        const out = this.#ops.patch(t, contentType ?? '', text, dryRunOf(query, undefined), subresource);
        return reply(out.code, out.body);
      }
      case 'delete': {
        const out = this.#ops.delete(t, deleteOptions(query, body), dryRunOf(query, body));
        return reply(out.code, out.body);
      }
      case 'deletecollection': {
        const out = this.#ops.deleteCollection(t, listQuery(query), deleteOptions(query, body), dryRunOf(query, body));
        return reply(out.code, out.body);
      }
    }
  }

  /** A create or update body: JSON, or the protobuf kubectl's typed clients send for some built-in kinds. */
  #decodeObject(raw: Buffer, contentType: string | undefined): JsonValue {
    if (isJsonMediaType(contentType)) return this.#decode(raw.toString('utf8'));
    if (mediaType(contentType) !== PROTOBUF_MEDIA_TYPE) throw unsupportedMediaType(contentType ?? '');
    try {
      return decodeKubernetesProtobuf(raw);
    } catch (error) {
      if (!(error instanceof ProtobufError)) throw error;
      throw error.reason === 'unsupported' ? new ApiError(415, 'UnsupportedMediaType', error.message) : badRequest(`the body of the request could not be decoded as protobuf: ${error.message}`);
    }
  }

  #decode(text: string): JsonValue {
    try {
      return parseJson(text);
    } catch (error) {
      throw badRequest(`the body of the request could not be decoded as JSON: ${error instanceof Error ? error.message : String(error)}`);
    }
  }
}

/** The name a field selector pins down with `metadata.name=x` (or `==`), as RequestInfo reads it for list and watch. */
function exactName(fieldSelector: string | null): string | undefined {
  for (const term of (fieldSelector ?? '').split(',')) {
    const match = /^\s*metadata\.name\s*==?\s*(.*?)\s*$/.exec(term);
    if (match?.[1]) return match[1];
  }
  return undefined;
}

export async function startFakeKubeApiServer(options: FakeKubeApiServerOptions = {}): Promise<FakeKubeApiServer> {
  const server = new FakeKubeApiServer(options);
  await server.listen(options.host, options.port);
  return server;
}
