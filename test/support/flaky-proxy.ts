import { createServer, request as forward, type IncomingHttpHeaders, type Server } from 'node:http';

/** One request as the proxy received it. */
export interface ProxiedRequest {
  readonly method: string;
  readonly path: string;
  readonly headers: IncomingHttpHeaders;
  /** The body as text (the AWS query protocol: `Action=…&Version=…`). */
  readonly body: string;
}

export interface FlakyProxy {
  /** `http://127.0.0.1:<port>`: give it to clients as their endpoint. */
  readonly endpoint: string;
  /** Every request received, in order, including the one that took the proxy down. */
  readonly requests: readonly ProxiedRequest[];
  readonly isUp: boolean;
  /**
   * Arms the trap: the first request matching `predicate` is not forwarded;
   * its socket is destroyed and the proxy goes down (every open connection
   * dropped, the port closed), so later connections are refused. The trap
   * disarms once sprung.
   */
  goDownWhen(predicate: (request: ProxiedRequest) => boolean): void;
  /** Resolves with the request that took the proxy down, once it has. */
  wentDown(): Promise<ProxiedRequest>;
  /** Listens again on the same port. */
  up(): Promise<void>;
  /** Down for good (idempotent). */
  close(): Promise<void>;
}

/**
 * A small reverse proxy in front of an HTTP endpoint (the emulator) that can
 * be made to stop answering mid-conversation: what a member account's API
 * endpoint looks like to Riposte when the network fails partway through a
 * run. Method, path, headers and body are forwarded as received (moto ignores
 * the Host the SDK signed for); the answer is streamed back as it comes.
 */
export interface ProxyOptions {
  /**
   * Forward one request at a time. DynamoDB applies writes to one item one
   * after another; moto's threaded server does not (measured: 20 concurrent
   * `list_append` updates of one item lost one, in about one full test run of
   * four). Tests that race on one item go through a serial proxy, so the
   * emulator keeps the guarantee the code relies on, while the callers still
   * race, fail their conditions and retry for real.
   */
  readonly serial?: boolean;
}

export async function flakyProxy(target: string, options: ProxyOptions = {}): Promise<FlakyProxy> {
  const upstream = new URL(target);
  let queue: Promise<void> = Promise.resolve();
  const requests: ProxiedRequest[] = [];
  let server: Server | undefined;
  let port = 0;
  let trap: ((request: ProxiedRequest) => boolean) | undefined;
  let sprung: ((request: ProxiedRequest) => void) | undefined;
  const down = new Promise<ProxiedRequest>((resolve) => {
    sprung = resolve;
  });

  const stop = async (current: Server): Promise<void> => {
    const closed = new Promise<void>((resolve) => current.close(() => resolve()));
    // close() alone keeps kept-alive connections answering: drop them too.
    current.closeAllConnections();
    await closed;
  };

  const listen = async (): Promise<void> => {
    const current = createServer((incoming, outgoing) => {
      const chunks: Buffer[] = [];
      incoming.on('data', (chunk: Buffer) => chunks.push(chunk));
      incoming.on('end', () => {
        const body = Buffer.concat(chunks);
        const received: ProxiedRequest = { method: incoming.method ?? 'GET', path: incoming.url ?? '/', headers: incoming.headers, body: body.toString('utf8') };
        requests.push(received);
        if (trap?.(received) === true) {
          trap = undefined;
          incoming.socket.destroy();
          if (server === current) server = undefined;
          void stop(current).then(() => sprung?.(received));
          return;
        }
        const send = (): Promise<void> =>
          new Promise<void>((settled) => {
            const proxied = forward(
              { protocol: upstream.protocol, hostname: upstream.hostname, port: upstream.port, method: received.method, path: received.path, headers: incoming.headers },
              (answer) => {
                outgoing.writeHead(answer.statusCode ?? 502, answer.headers);
                answer.pipe(outgoing);
                answer.on('end', () => settled());
                answer.on('error', () => settled());
              },
            );
            proxied.on('error', () => {
              outgoing.destroy();
              settled();
            });
            proxied.end(body);
          });
        if (options.serial === true) queue = queue.then(send);
        else void send();
      });
    });
    await new Promise<void>((resolve, reject) => {
      current.once('error', reject);
      current.listen(port, '127.0.0.1', () => {
        current.off('error', reject);
        resolve();
      });
    });
    const address = current.address();
    if (address === null || typeof address === 'string') throw new Error('the flaky proxy has no TCP address');
    port = address.port;
    server = current;
  };

  await listen();
  return {
    endpoint: `http://127.0.0.1:${port}`,
    requests,
    get isUp() {
      return server !== undefined;
    },
    goDownWhen(predicate) {
      trap = predicate;
    },
    wentDown: () => down,
    async up() {
      if (server === undefined) await listen();
    },
    async close() {
      const current = server;
      server = undefined;
      if (current !== undefined) await stop(current);
    },
  };
}
