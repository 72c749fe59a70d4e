// The one place the operator talks HTTP to the Kubernetes API (watch streams included): client-node
// supplies authentication (KubeConfig) and the transport; every request is counted by verb and
// response code, and writes are counted so tests can assert "no write when nothing changed".
// With a leadership fence, a write is sent only while this replica leads and is aborted when the
// term ends (operator/kube/fence.ts); a refusal by the API server's half of the fence (the chart's
// admission policy) is thrown as the same NotLeadingError.
import { HttpMethod, IsomorphicFetchHttpLibrary, RequestContext } from '@kubernetes/client-node';
import type { KubeConfig } from '@kubernetes/client-node';
import { apiServerFenceRefusal, NotLeadingError, type LeadershipFence } from './fence.ts';

export const apiVerbs = ['get', 'list', 'watch', 'create', 'update', 'patch', 'apply', 'delete'] as const;
export type ApiVerb = (typeof apiVerbs)[number];

const methodOfVerb = {
  get: HttpMethod.GET,
  list: HttpMethod.GET,
  watch: HttpMethod.GET,
  create: HttpMethod.POST,
  update: HttpMethod.PUT,
  patch: HttpMethod.PATCH,
  apply: HttpMethod.PATCH,
  delete: HttpMethod.DELETE,
} as const satisfies Record<ApiVerb, HttpMethod>;

const readVerbs: ReadonlySet<ApiVerb> = new Set(['get', 'list', 'watch']);

const defaultTimeoutMs = 60_000;

/** Called once per request: the response code, or 'error' when no response arrived. */
export type ApiRequestObserver = (verb: ApiVerb, code: string, request: ApiRequest) => void;

export interface ApiRequest {
  readonly verb: ApiVerb;
  readonly path: string;
  readonly query?: Readonly<Record<string, string | undefined>>;
  readonly body?: unknown;
  readonly contentType?: string;
  /** The media type asked for; application/json unless the endpoint serves another (the JWKS). */
  readonly accept?: string;
  readonly signal?: AbortSignal;
  /** Gives up after this long; default 60 s for requests, none for streams (they have their own). */
  readonly timeoutMs?: number;
  /**
   * Sent whether or not this replica leads: the lease writes that win leadership, and reviews
   * (TokenReview, SubjectAccessReview) that change nothing.
   */
  readonly unfenced?: boolean;
}

interface StatusBody {
  reason?: string;
  message?: string;
}

/** A non-2xx answer of the apiserver, with its HTTP status and the Status reason/message. */
export class KubeApiError extends Error {
  readonly statusCode: number;
  readonly reason: string;
  constructor(verb: ApiVerb, path: string, statusCode: number, status: StatusBody) {
    super(`${verb} ${path}: ${statusCode} ${status.reason ?? ''} ${status.message ?? ''}`.trim());
    this.name = 'KubeApiError';
    this.statusCode = statusCode;
    this.reason = status.reason ?? '';
  }
}

export function isNotFound(error: unknown): boolean {
  return error instanceof KubeApiError && error.statusCode === 404;
}

export function isConflict(error: unknown): boolean {
  return error instanceof KubeApiError && error.statusCode === 409;
}

export function isGone(error: unknown): boolean {
  return error instanceof KubeApiError && error.statusCode === 410;
}

export class KubeClient {
  readonly #config: KubeConfig;
  readonly #http = new IsomorphicFetchHttpLibrary();
  readonly #observers: ApiRequestObserver[] = [];
  #fence: LeadershipFence | undefined;
  #writes = 0;

  constructor(config: KubeConfig) {
    this.#config = config;
  }

  /** Writes (create/update/patch/apply/delete) sent since this client was made. */
  get writes(): number {
    return this.#writes;
  }

  /** From now on, writes (unless `unfenced`) go out only inside the fence's open term. */
  fenceWrites(fence: LeadershipFence): void {
    this.#fence = fence;
  }

  onRequest(observer: ApiRequestObserver): void {
    this.#observers.push(observer);
  }

  /** Sends a request and returns the parsed JSON body; throws KubeApiError on a non-2xx answer. */
  async request<T>(request: ApiRequest): Promise<T> {
    const response = await this.#send(request);
    const text = await response.body.text();
    if (response.httpStatusCode >= 300) throw apiError(request, response.httpStatusCode, text);
    return (text === '' ? {} : JSON.parse(text)) as T;
  }

  /** Opens a streaming request (a watch) and returns its body; throws KubeApiError on a non-2xx answer. */
  async stream(request: ApiRequest): Promise<ReadableStream<Uint8Array>> {
    const response = await this.#send(request);
    if (response.httpStatusCode >= 300) {
      throw apiError(request, response.httpStatusCode, await response.body.text());
    }
    const body = response.body.stream();
    if (body === null) throw new Error(`${request.verb} ${request.path}: the response has no body`);
    return body;
  }

  async #send(request: ApiRequest) {
    const cluster = this.#config.getCurrentCluster();
    if (cluster === null) throw new Error('the kubeconfig has no current cluster');
    const url = new URL(cluster.server.replace(/\/$/, '') + request.path);
    for (const [name, value] of Object.entries(request.query ?? {})) {
      if (value !== undefined) url.searchParams.set(name, value);
    }
    const context = new RequestContext(url.toString(), methodOfVerb[request.verb]);
    context.setHeaderParam('accept', request.accept ?? 'application/json');
    if (request.body !== undefined) {
      context.setHeaderParam('content-type', request.contentType ?? 'application/json');
      context.setBody(JSON.stringify(request.body));
    }
    const timeoutMs = request.timeoutMs ?? (request.verb === 'watch' ? undefined : defaultTimeoutMs);
    const signals = [
      request.signal,
      timeoutMs === undefined ? undefined : AbortSignal.timeout(timeoutMs),
    ].filter((signal) => signal !== undefined);
    await this.#config.applySecurityAuthentication(context);
    const isWrite = !readVerbs.has(request.verb);
    // Admitted as late as possible, after the last await before the request leaves.
    if (isWrite && request.unfenced !== true && this.#fence !== undefined) signals.push(this.#fence.admit());
    if (signals.length > 0) context.setSignal(AbortSignal.any(signals));
    if (isWrite) this.#writes += 1;
    try {
      const response = await this.#http.send(context).toPromise();
      this.#observe(request, String(response.httpStatusCode));
      return response;
    } catch (error) {
      this.#observe(request, 'error');
      throw error;
    }
  }

  #observe(request: ApiRequest, code: string): void {
    for (const observer of this.#observers) observer(request.verb, code, request);
  }
}

function apiError(request: ApiRequest, statusCode: number, text: string): KubeApiError | NotLeadingError {
  const status = parseStatus(text);
  // The API server's half of the leader fence refused it: handled as the client's own refusal.
  if (statusCode === 403 && status.message?.includes(apiServerFenceRefusal) === true) {
    return new NotLeadingError(`the API server: ${status.message}`);
  }
  return new KubeApiError(request.verb, request.path, statusCode, status);
}

function parseStatus(text: string): StatusBody {
  try {
    return JSON.parse(text) as StatusBody;
  } catch {
    return { message: text.slice(0, 200) };
  }
}
