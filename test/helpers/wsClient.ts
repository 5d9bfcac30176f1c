import { WebSocket, type RawData } from 'ws';

export interface Received {
  data: Buffer;
  isBinary: boolean;
}

/** A client socket that records every message, for asserting on what arrived. */
export class RecordingSocket {
  readonly received: Received[] = [];
  closed: { code: number; reason: string } | undefined;

  private constructor(readonly ws: WebSocket) {
    ws.on('message', (data: RawData, isBinary) => {
      this.received.push({ data: Buffer.isBuffer(data) ? data : Buffer.from(data as ArrayBuffer), isBinary });
    });
    ws.on('close', (code, reason) => {
      this.closed = { code, reason: reason.toString() };
    });
  }

  static open(url: string, options: ConstructorParameters<typeof WebSocket>[2] = {}): Promise<RecordingSocket> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(url, options);
      const socket = new RecordingSocket(ws);
      ws.once('open', () => resolve(socket));
      ws.once('unexpected-response', (_req, res) => reject(new Error(`handshake answered ${res.statusCode}`)));
      ws.once('error', reject);
    });
  }

  json(): unknown[] {
    return this.received.filter((m) => !m.isBinary).map((m) => JSON.parse(m.data.toString()) as unknown);
  }

  close(code?: number, reason?: string): Promise<void> {
    return new Promise((resolve) => {
      if (this.ws.readyState === WebSocket.CLOSED) return resolve();
      this.ws.once('close', () => resolve());
      this.ws.close(code, reason);
    });
  }
}
