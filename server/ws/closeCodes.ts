/** Close codes an endpoint may put on the wire (RFC 6455 §7.4); 1005/1006 only describe what happened. */
export function isSendableCloseCode(code: number): boolean {
  return (
    (code >= 1000 && code <= 1014 && code !== 1004 && code !== 1005 && code !== 1006) || (code >= 3000 && code <= 4999)
  );
}
