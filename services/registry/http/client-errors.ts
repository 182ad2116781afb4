/**
 * Requests Node's HTTP server deals with before fastify sees them: headers
 * larger than it takes (431), a malformed request line or header (400), a
 * request that took too long to arrive (408), and CONNECT (which Node hands to
 * a `connect` listener or else drops without an answer). Fastify's default
 * answers the first three in its own shape; these handlers write the coded JSON
 * body every other error has.
 */
import type { IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { ErrorCode } from '../../../common/errors.ts';

interface ClientError extends Error {
  code?: string;
}

const REASONS: Record<number, string> = {
  400: 'Bad Request',
  405: 'Method Not Allowed',
  408: 'Request Timeout',
  431: 'Request Header Fields Too Large',
};

function answerOf(error: ClientError): { status: number; code: ErrorCode; message: string } {
  if (error.code === 'HPE_HEADER_OVERFLOW') {
    const message = 'the request line and headers are larger than the server takes (16 KiB)';
    return { status: 431, code: 'E_HEADERS_TOO_LARGE', message };
  }
  if (error.code === 'ERR_HTTP_REQUEST_TIMEOUT') {
    return { status: 408, code: 'E_REQUEST_INVALID', message: 'the request did not arrive in time' };
  }
  return { status: 400, code: 'E_REQUEST_INVALID', message: 'the request is not valid HTTP/1.1' };
}

function writeError(socket: Socket, status: number, code: ErrorCode, message: string, extra: string[] = []): void {
  if (!socket.writable) return;
  const body = JSON.stringify({ error: { code, message } });
  const head = [
    `HTTP/1.1 ${status} ${REASONS[status]}`,
    'Content-Type: application/json',
    `Content-Length: ${Buffer.byteLength(body)}`,
    ...extra,
    'Connection: close',
  ];
  socket.write(`${head.join('\r\n')}\r\n\r\n${body}`);
}

/** Fastify's `clientErrorHandler`: a coded JSON answer on the raw socket, then the connection is closed. */
export function clientErrorHandler(error: ClientError, socket: Socket): void {
  if (error.code === 'ECONNRESET' || socket.destroyed) return;
  const { status, code, message } = answerOf(error);
  writeError(socket, status, code, message);
  socket.destroy(error);
}

/** The server's `connect` listener: the registry is no proxy. */
export function connectHandler(_req: IncomingMessage, socket: Duplex): void {
  const message = 'CONNECT is not allowed: the registry is not a proxy';
  writeError(socket as Socket, 405, 'E_METHOD_NOT_ALLOWED', message, ['Allow: GET, HEAD, POST']);
  socket.end();
}
