/**
 * Requests Node's HTTP parser refuses before fastify sees them: headers larger
 * than it takes (431), a malformed request line or header (400), a request that
 * took too long to arrive (408). Fastify's default answers these in its own
 * shape; this handler writes the coded JSON body every other error has.
 */
import type { Socket } from 'node:net';
import type { ErrorCode } from '../../../common/errors.ts';

interface ClientError extends Error {
  code?: string;
}

const REASONS: Record<number, string> = { 400: 'Bad Request', 408: 'Request Timeout', 431: 'Request Header Fields Too Large' };

function answerOf(error: ClientError): { status: number; code: ErrorCode; message: string } {
  if (error.code === 'HPE_HEADER_OVERFLOW') {
    return { status: 431, code: 'E_HEADERS_TOO_LARGE', message: 'the request line and headers are larger than the server takes (16 KiB)' };
  }
  if (error.code === 'ERR_HTTP_REQUEST_TIMEOUT') return { status: 408, code: 'E_REQUEST_INVALID', message: 'the request did not arrive in time' };
  return { status: 400, code: 'E_REQUEST_INVALID', message: 'the request is not valid HTTP/1.1' };
}

/** Fastify's `clientErrorHandler`: a coded JSON answer on the raw socket, then the connection is closed. */
export function clientErrorHandler(error: ClientError, socket: Socket): void {
  if (error.code === 'ECONNRESET' || socket.destroyed) return;
  if (socket.writable) {
    const { status, code, message } = answerOf(error);
    const body = JSON.stringify({ error: { code, message } });
    const head = [`HTTP/1.1 ${status} ${REASONS[status]}`, 'Content-Type: application/json', `Content-Length: ${Buffer.byteLength(body)}`, 'Connection: close'];
    socket.write(`${head.join('\r\n')}\r\n\r\n${body}`);
  }
  socket.destroy(error);
}
