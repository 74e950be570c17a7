import { createServer, type IncomingMessage } from 'node:http';

import type { ApiGatewayIdentity, ApiGatewayProxyEvent, ApiGatewayProxyResult, LambdaContext } from '../../lambda/index.js';

/** The identity API Gateway puts in the request context once it has checked a SigV4 signature: here, the analyst the demo plays. */
export const DEMO_ANALYST: ApiGatewayIdentity = {
  accountId: '999988887777',
  caller: 'AROA4EXAMPLEANALYST5T:alice@example.com',
  user: 'AROA4EXAMPLEANALYST5T:alice@example.com',
  userArn: 'arn:aws:sts::999988887777:assumed-role/SecOpsResponder/alice@example.com',
  accessKey: 'ASIA4EXAMPLECALLER9Z',
  principalOrgId: 'o-a1b2c3d4e5',
  sourceIp: '127.0.0.1',
  userAgent: 'riposte-demo',
};

async function bodyOf(incoming: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of incoming) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/** An HTTP request as a gateway on loopback receives it. */
export interface LoopbackRequest {
  readonly method: string;
  readonly path: string;
  readonly headers: Readonly<Record<string, string>>;
  /** null when the request has none. */
  readonly body: string | null;
  readonly remoteAddress: string | null;
}

/**
 * An HTTP server on 127.0.0.1 (a free port) that answers each request with
 * what `serve` makes of it, or 502 with the error when `serve` throws: the
 * transport of a stand-in for API Gateway (the demo's, and the HTTP tests').
 */
export async function loopbackServer(serve: (request: LoopbackRequest) => Promise<ApiGatewayProxyResult>): Promise<{ url: string; close(): Promise<void> }> {
  const server = createServer((incoming, outgoing) => {
    void (async () => {
      const body = await bodyOf(incoming);
      const headers = Object.fromEntries(Object.entries(incoming.headers).filter((entry): entry is [string, string] => typeof entry[1] === 'string'));
      const result = await serve({
        method: incoming.method ?? 'GET',
        path: new URL(incoming.url ?? '/', 'http://127.0.0.1').pathname,
        headers,
        body: body === '' ? null : body,
        remoteAddress: incoming.socket.remoteAddress ?? null,
      });
      outgoing.writeHead(result.statusCode, result.headers);
      outgoing.end(result.body);
    })().catch((error: unknown) => {
      outgoing.writeHead(502);
      outgoing.end(String(error));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('the loopback server has no TCP address');
  return {
    url: `http://127.0.0.1:${address.port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/**
 * A stand-in for API Gateway on loopback: each HTTP request becomes a REST
 * (v1) proxy event for the real API handler. API Gateway checks the SigV4
 * signature before the function runs and names the caller in
 * `requestContext.identity`; this one names the demo's analyst.
 */
export function loopbackGateway(
  handler: (event: ApiGatewayProxyEvent, context: LambdaContext) => Promise<ApiGatewayProxyResult>,
  context: () => LambdaContext,
): Promise<{ url: string; close(): Promise<void> }> {
  return loopbackServer((request) => {
    const runPath = /^\/runs\/[^/]+(\/rollback)?$/.exec(request.path);
    const event: ApiGatewayProxyEvent = {
      resource: runPath === null ? request.path : `/runs/{id}${runPath[1] ?? ''}`,
      path: request.path,
      httpMethod: request.method,
      headers: request.headers,
      requestContext: { requestId: crypto.randomUUID(), stage: 'prod', identity: { ...DEMO_ANALYST, sourceIp: request.remoteAddress, userAgent: request.headers['user-agent'] ?? null } },
      body: request.body,
      isBase64Encoded: false,
    };
    return handler(event, context());
  });
}
