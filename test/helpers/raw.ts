import { connect } from 'node:net';

/** Sends bytes as they are (clients would refuse or fix them) and resolves with the whole answer. */
export function rawExchange(port: number, bytes: string, localAddress?: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect({ port, host: '127.0.0.1', localAddress }, () => socket.write(bytes));
    let answer = '';
    socket.on('data', (chunk) => (answer += chunk.toString()));
    socket.on('end', () => resolve(answer));
    socket.on('close', () => resolve(answer));
    socket.on('error', reject);
  });
}
