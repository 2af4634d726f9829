// Where the HTTP/1 exchanges of a relayed TCP connection begin and end, read from its bytes both ways (a well-kept
// parser, http-parser-js): what lets the service proxy close a kept-alive connection to a pod that left service
// right after an answer, before the client sends its next request, even when the client never pauses.
import { HTTPParser } from 'http-parser-js';

type Parser = InstanceType<typeof HTTPParser>;
const HEAD = HTTPParser.methods.indexOf('HEAD');

/** The parser's headers callback gets an info object, or (in Node 0.11 compatibility mode) positional arguments. */
const infoOf = (args: unknown[]): { method?: number | string; statusCode?: number; upgrade?: boolean } =>
  typeof args[0] === 'object' && args[0] !== null ? (args[0] as object) : { method: args[3] as number, statusCode: args[5] as number, upgrade: args[7] as boolean };

export class HttpExchanges {
  private readonly requests: Parser = new HTTPParser(HTTPParser.REQUEST);
  private readonly responses: Parser = new HTTPParser(HTTPParser.RESPONSE);
  /** The requests not answered yet: whether each is a HEAD (its answer has no body, whatever its headers say). */
  private readonly unanswered: boolean[] = [];
  /** Not (or no longer) HTTP/1 requests and answers: a byte stream whose exchanges cannot be told. */
  unknown = false;

  constructor() {
    this.requests[HTTPParser.kOnHeadersComplete] = (...args: unknown[]) => {
      const info = infoOf(args);
      this.unanswered.push(info.method === HEAD || info.method === 'HEAD');
      if (info.upgrade) this.unknown = true; // a websocket, a CONNECT tunnel: bytes from now on
    };
    this.responses[HTTPParser.kOnHeadersComplete] = (...args: unknown[]) => {
      const info = infoOf(args);
      const status = info.statusCode ?? 0;
      if (status === 101 || info.upgrade) this.unknown = true;
      // As Node's own client: no body after an interim (1xx) answer, a 204, a 304, or an answer to a HEAD.
      return status < 200 || status === 204 || status === 304 || this.unanswered[0] === true ? 1 : 0;
    };
    this.responses[HTTPParser.kOnMessageComplete] = () => {
      // An interim answer (100 Continue) is followed by the final one.
      if (((this.responses as unknown as { info: { statusCode?: number } }).info.statusCode ?? 200) >= 200) this.unanswered.shift();
    };
  }

  /** Bytes the client sent. */
  fromClient(chunk: Buffer): void {
    if (!this.unknown) this.feed(this.requests, chunk);
  }

  /** Bytes the backend sent. */
  fromBackend(chunk: Buffer): void {
    if (this.unknown) return;
    // A server that speaks first is no HTTP server.
    if (!this.unanswered.length) {
      this.unknown = true;
      return;
    }
    this.feed(this.responses, chunk);
  }

  /** Every request so far is answered in full, and no byte of another has come: a moment to close at. */
  get between(): boolean {
    const r = this.requests as Parser & { state: string; line: string };
    return !this.unknown && !this.unanswered.length && r.state === 'REQUEST_LINE' && r.line === '';
  }

  private feed(parser: Parser, chunk: Buffer): void {
    if (parser.execute(chunk) instanceof Error) this.unknown = true;
  }
}
